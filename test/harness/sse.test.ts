import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, SseParser } from './sse.ts';

describe('SseParser', () => {
  it('dispatches on a blank line, with event name, id and data', () => {
    const parser = new SseParser();
    expect(parser.push('event: snapshot\nid: 3\ndata: {"a":1}\n\n')).toEqual([
      { event: 'snapshot', id: '3', data: '{"a":1}' },
    ]);
  });

  it('handles CRLF, CR, multi-line data, comments, retry and chunks split anywhere', () => {
    const text =
      ': keep-alive\r\nretry: 2000\r\n\r\ndata: one\rdata:two\r\rid: 9\nevent: x\ndata: 3\n\n';
    const expected = [
      { event: 'message', id: undefined, data: 'one\ntwo' },
      { event: 'x', id: '9', data: '3' },
    ];
    expect(new SseParser().push(text)).toEqual(expected);
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(events, `cut at ${cut}`).toEqual(expected);
    }
  });

  it('keeps the last id for later events and for resuming', () => {
    const parser = new SseParser();
    const events = parser.push('id: 5\ndata: a\n\ndata: b\n\n');
    expect(events.map((e) => e.id)).toEqual(['5', '5']);
    expect(parser.lastEventId).toBe('5');
  });

  it('does not dispatch an event without data', () => {
    expect(new SseParser().push('event: empty\n\n')).toEqual([]);
  });
});

describe('openSse', () => {
  let server: Server;
  let url: string;
  const held: ServerResponse[] = [];
  const lastIds: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/not-a-stream') {
        res.writeHead(406, { 'Content-Type': 'application/json' }).end('{"error":{}}');
        return;
      }
      lastIds.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('event: snapshot\nid: 1\ndata: {}\n\n');
      held.push(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('records events in order and waits for the next one', async () => {
    const client = await openSse(url, { lastEventId: '41' });
    expect(lastIds.at(-1)).toBe('41');
    expect((await client.waitFor(() => true)).event).toBe('snapshot');
    const next = client.waitForNext((e) => e.event === 'update');
    held.at(-1)?.write('event: update\nid: 2\ndata: {"n":2}\n\n');
    expect(await next).toEqual({ event: 'update', id: '2', data: '{"n":2}' });
    expect(client.lastEventId).toBe('2');
    client.close();
    expect(await client.ended).toEqual({ byClient: true });
  });

  it('rejects a wait with what it received when the server ends the stream', async () => {
    const client = await openSse(url);
    const waiting = client.waitFor((e) => e.event === 'never');
    held.at(-1)?.end();
    await expect(waiting).rejects.toThrow(/closed by the server[\s\S]*event=snapshot id=1/);
    expect(client.disconnected).toEqual({ byClient: false });
  });

  it('rejects a wait that times out, listing what arrived', async () => {
    const client = await openSse(url);
    await expect(client.waitFor((e) => e.event === 'never', 200)).rejects.toThrow(
      /within 200 ms[\s\S]*Received 1 events/,
    );
    client.close();
  });

  it('rejects a response that is not an event stream, with its status and body', async () => {
    await expect(openSse(new URL('not-a-stream', url).href)).rejects.toThrow(/406.*"error"/);
  });
});
