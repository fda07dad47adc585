import { createServer, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type Service, spawnService, stopAllServices } from './processes.ts';
import { type ProbeOrigin, startProbeOrigin, waitForPushpin } from './pushpin-ready.ts';

// A process standing in for Pushpin's runner: readiness watches it for an early exit.
function runner(script = 'setInterval(() => {}, 1000)'): Service {
  return spawnService({
    name: 'pushpin',
    command: process.execPath,
    args: ['-e', script],
    url: 'http://127.0.0.1:1/',
  });
}

// One port standing in for both of Pushpin's: `onGet` answers the client port's requests, and a
// publish writes its http-stream content to every stream `onGet` held.
async function standIn(onGet: (res: ServerResponse, held: Set<ServerResponse>) => void) {
  const held = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/publish/') {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const { items } = JSON.parse(body) as {
          items: { formats: { 'http-stream': { content: string } } }[];
        };
        for (const item of items)
          for (const s of held) s.write(item.formats['http-stream'].content);
        res.writeHead(200).end('Published\n');
      });
      return;
    }
    onGet(res, held);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const probes: ProbeOrigin[] = [];
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(probes.splice(0).map((probe) => probe.close()));
  await stopAllServices(500);
});

async function probe(): Promise<ProbeOrigin> {
  const started = await startProbeOrigin();
  probes.push(started);
  return started;
}

describe('startProbeOrigin', () => {
  it('holds every request as a stream on its own random channel', async () => {
    const { id, port } = await probe();
    expect(id).toMatch(/^ready-[0-9a-f]{24}$/);
    expect((await probe()).id).not.toBe(id);
    const response = await fetch(`http://127.0.0.1:${port}/anything`);
    expect(response.headers.get('grip-hold')).toBe('stream');
    expect(response.headers.get('grip-channel')).toBe(id);
    expect(await response.text()).toBe('held\n');
  });
});

describe('waitForPushpin', () => {
  const whereToLook = 'Its config: /somewhere/pushpin.conf.';

  it('resolves once a held stream receives what is published to it', async () => {
    const pushpin = await standIn((res, held) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('held\n');
      held.add(res);
      res.on('close', () => held.delete(res));
    });
    closers.push(pushpin.close);
    const options = { url: pushpin.url, publishUrl: pushpin.url, whereToLook, timeoutMs: 5_000 };
    await waitForPushpin({ ...options, service: runner(), probe: await probe() });
  });

  it('names the publish endpoint, the last try and where to look when it does not answer', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const service = runner(`console.log('zurl: bind failed'); setInterval(() => {}, 1000)`);
    await expect(
      waitForPushpin({
        service,
        url,
        publishUrl: url,
        probe: await probe(),
        whereToLook,
        timeoutMs: 500,
      }),
    ).rejects.toThrow(
      new RegExp(
        `not ready within 500 ms: POST ${url}publish/ \\(an empty publish\\) did not answer 200 \\(last try: connect ECONNREFUSED[^)]*\\)\\.\\n${whereToLook}[\\s\\S]*zurl: bind failed`,
      ),
    );
  });

  it('names the held stream when Pushpin answers but does not hold it yet', async () => {
    const pushpin = await standIn((res) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Accept service unavailable.\n');
    });
    closers.push(pushpin.close);
    const options = { url: pushpin.url, publishUrl: pushpin.url, whereToLook, timeoutMs: 500 };
    await expect(
      waitForPushpin({ ...options, service: runner(), probe: await probe() }),
    ).rejects.toThrow(
      /a stream held through http:\/\/127\.0\.0\.1:\d+\/ \(Pushpin-Route: ready-[0-9a-f]+\) did not receive a message published to it \(last try: answered 500 "Accept service unavailable\."\)/,
    );
  });

  it('stops waiting, with its last lines, when Pushpin exits', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const service = runner(`console.error('error: cannot bind 7999'); process.exit(1)`);
    const started = Date.now();
    await expect(
      waitForPushpin({
        service,
        url,
        publishUrl: url,
        probe: await probe(),
        whereToLook,
        timeoutMs: 20_000,
      }),
    ).rejects.toThrow(
      /pushpin \(pid \d+\) exited \(code 1\) before it was ready[\s\S]*cannot bind 7999/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
