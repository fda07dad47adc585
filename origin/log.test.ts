import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { requestIdOf } from './http/request-log.ts';
import { createLogger, logDestination, prettyMessage } from './log.ts';
import {
  ADMIN_TOKEN,
  HS256_KEY,
  type RecordingServer,
  signJwt,
  startRecordingServer,
  startTestOrigin,
  type TestOrigin,
} from './test-origin.ts';

// Real requests through createApp, logged by the origin's own logger at its most talkative, into
// a stream this test reads: every secret a request or the configuration carries stays out.

const PUBLISH_TOKEN = 'fastly-publish-token-0123456789';
const API_TOKEN = 'some-api-bearer-token-abcdefghij';
const COOKIE = 'session=cookie-secret-0123456789';
const FASTLY_KEY = 'fastly-key-header-0123456789';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  req?: { method: string; url: string; headers: Record<string, string> };
  res?: { statusCode: number };
}

const parsed = (origin: TestOrigin): Line[] => origin.logs.map((line) => JSON.parse(line));

describe('what the origin logs', () => {
  let proxy: RecordingServer;
  let origin: TestOrigin;
  const gripSig = signJwt({ iss: 'pushpin', exp: Math.floor(Date.now() / 1000) + 3600 }, HS256_KEY);

  beforeAll(async () => {
    proxy = await startRecordingServer();
    // The proxy refuses publishes, so that publish failures are logged too.
    proxy.answer.status = 500;
    proxy.answer.body = 'internal error';
    origin = await startTestOrigin({
      env: { LOG_LEVEL: 'trace', GRIP_URL: `${proxy.url}/?key=${PUBLISH_TOKEN}` },
    });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    await origin.send('/boards/', { method: 'POST', headers: admin, body: '{"name":"Quiz"}' });
    await origin.send('/boards/demo/players/p1/score-add/', {
      method: 'POST',
      headers: { ...admin, cookie: COOKIE, 'fastly-key': FASTLY_KEY },
      body: '{"amount":5}',
    });
    await origin.send('/boards/', { headers: { authorization: `Bearer ${API_TOKEN}` } });
    await origin.send('/boards/demo/', {
      headers: {
        accept: 'text/event-stream',
        'grip-sig': gripSig,
        'proxy-authorization': API_TOKEN,
      },
    });
    await vi.waitFor(() =>
      expect(origin.logs.join('\n')).toMatch(/publish failed: the proxy answered 500/),
    );
    // And a server error, whose stack is logged: the data directory becomes a file.
    const dataDir = dirname(origin.dataFile);
    await rm(dataDir, { recursive: true, force: true });
    await writeFile(dataDir, 'not a directory');
    await origin.send('/boards/demo/players/p2/score-add/', { method: 'POST', headers: admin });
    await rm(dataDir, { force: true });
    await mkdir(dataDir);
  });
  afterAll(async () => {
    await origin.close();
    await proxy.close();
  });

  it('holds no secret: admin token, bearer token, Grip-Sig, GRIP key, cookie, Fastly-Key', () => {
    const text = origin.logs.join('\n');
    expect(origin.logs.length).toBeGreaterThan(5);
    for (const secret of [
      ADMIN_TOKEN,
      API_TOKEN,
      gripSig,
      gripSig.split('.')[2] ?? '',
      PUBLISH_TOKEN,
      HS256_KEY,
      COOKIE,
      FASTLY_KEY,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('shows that a credential was there', () => {
    const headers = parsed(origin).flatMap((line) => (line.req ? [line.req.headers] : []));
    for (const name of [
      'authorization',
      'cookie',
      'grip-sig',
      'fastly-key',
      'proxy-authorization',
    ]) {
      expect(headers).toContainEqual(expect.objectContaining({ [name]: '[Redacted]' }));
    }
  });

  it('is JSON lines, one per request, each with its request id', () => {
    const requests = parsed(origin).filter((line) => line.req !== undefined);
    expect(
      requests.map((line) => `${line.req?.method} ${line.req?.url} ${line.res?.statusCode}`),
    ).toEqual([
      'POST /boards/ 201',
      'POST /boards/demo/players/p1/score-add/ 200',
      'GET /boards/ 200',
      'GET /boards/demo/ 200',
      'POST /boards/demo/players/p2/score-add/ 500',
    ]);
    for (const line of requests) expect(line.reqId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("puts the request id on the request's other lines too (a server error's stack)", () => {
    const lines = parsed(origin);
    const failed = lines.find((line) => line.res?.statusCode === 500);
    const stack = lines.find((line) => line.msg === 'answered 500 internal');
    expect(stack?.reqId).toBeDefined();
    expect(stack?.reqId).toBe(failed?.reqId);
    expect(JSON.stringify(stack)).toMatch(/ENOTDIR|EEXIST/);
  });

  it('logs a failed publish as a warning with the reason, not the request it made', () => {
    const warning = parsed(origin).find((line) => line.msg.startsWith('publish failed'));
    expect(warning).toMatchObject({ level: 40, boardId: 'demo', failure: '500' });
    expect(warning?.msg).toBe('publish failed: the proxy answered 500: "internal error"');
  });
});

describe('request ids', () => {
  const request = (header: string | undefined, peer = '127.0.0.1') =>
    ({
      headers: header === undefined ? {} : { 'x-request-id': header },
      socket: { remoteAddress: peer },
    }) as unknown as IncomingMessage;
  const loopback = (address: string) => address === '127.0.0.1';

  it.each([
    ['a UUID', '0b6b3e1c-3f7e-4c5b-9d0e-1f2a3b4c5d6e'],
    ["Fastly's trace id", '9f0c1a2b3c4d5e6f7a8b9c0d1e2f3a4b'],
    ['a dotted id', 'edge.1-2:3_4'],
  ])("takes %s from a trusted proxy's X-Request-Id", (_, id) => {
    expect(requestIdOf(request(id), loopback)).toBe(id);
  });

  it.each([
    ['from a peer that is not trusted', 'edge-id-123', '203.0.113.9'],
    ['with a space', 'two words', '127.0.0.1'],
    ['with a line break', 'id\nforged: line', '127.0.0.1'],
    ['empty', '', '127.0.0.1'],
    ['too long', 'x'.repeat(129), '127.0.0.1'],
    ['absent', undefined, '127.0.0.1'],
  ])('makes up its own (a UUID) for a header %s', (_, header, peer) => {
    const id = requestIdOf(request(header, peer), loopback);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('echoes the id in X-Request-Id, through a real origin that trusts loopback', async () => {
    const origin = await startTestOrigin();
    try {
      const given = await origin.send('/boards/', { headers: { 'x-request-id': 'edge-42' } });
      expect(given.headers['x-request-id']).toBe('edge-42');
      const made = await origin.send('/boards/');
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(origin.logs.at(-2) ?? '{}').reqId).toBe('edge-42');
    } finally {
      await origin.close();
    }
  });

  it('ignores the header when loopback is not a trusted proxy', async () => {
    const origin = await startTestOrigin({ env: { TRUST_PROXY: '10.0.0.0/8' } });
    try {
      const reply = await origin.send('/boards/', { headers: { 'x-request-id': 'edge-42' } });
      expect(reply.headers['x-request-id']).not.toBe('edge-42');
    } finally {
      await origin.close();
    }
  });
});

describe('log formats', () => {
  it('JSON by default: the logger writes one object a line', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line) => void lines.push(line) });
    logger.info({ boardId: 'b' }, 'hello');
    logger.debug('not at info');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 30, name: 'origin', msg: 'hello' });
  });

  it('pretty on request (pino-pretty, loaded only then)', async () => {
    expect(await logDestination('json')).toBeUndefined();
    expect(await logDestination('pretty')).toBeDefined();
  });

  it('a request in one line of text', () => {
    const line = {
      msg: 'request completed',
      reqId: 'r1',
      req: { method: 'GET', url: '/boards/' },
      res: { statusCode: 200 },
      responseTime: 3,
    };
    expect(prettyMessage(line, 'msg')).toBe('GET /boards/ 200 3 ms [r1]');
    expect(prettyMessage({ msg: 'publish failed', reqId: 'r2' }, 'msg')).toBe(
      'publish failed [r2]',
    );
    expect(prettyMessage({ msg: 'listening' }, 'msg')).toBe('listening');
  });
});
