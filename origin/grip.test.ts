import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Publisher } from '@fanoutio/grip';
import { ServeGrip } from '@fanoutio/serve-grip/node';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from './config.ts';
import { createPublisher, gripLastIds } from './grip.ts';
import {
  HS256_KEY,
  type RecordingServer,
  signJwt,
  startRecordingServer,
  startTestOrigin,
  storeUnderTest,
  type TestOrigin,
} from './test-origin.ts';

// Stream requests straight to the origin, with every kind of Grip-Sig. Only a signature made with
// the configured key, by the configured issuer, and still valid gets a GRIP hold; everything else
// is refused (406 for a board stream, 403 for the recovery link) and carries no Grip-* header.
// On every store (vitest.config.ts).
const STORE = storeUnderTest();

const SERVICE = 'fastly:SU1Z0isxPaozGVKXdv0eY';
const now = () => Math.floor(Date.now() / 1000);
const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const ecPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

const fanout = ecPair();
const stranger = ecPair();

interface Setup {
  name: string;
  verifyKey: string;
  iss: string;
  /** Signs claims the way the real proxy would. */
  sign: (claims: Record<string, unknown>) => string;
  /** Signatures that only the wrong party could have made. */
  forgeries: [string, string][];
}

const expired = (iss: string) => ({ iss, exp: now() - 60 });
const fresh = (iss: string) => ({ iss, exp: now() + 3600 });

const SETUPS: Setup[] = [
  {
    name: 'HS256 (Pushpin, a key generated per install)',
    verifyKey: HS256_KEY,
    iss: 'pushpin',
    sign: (claims) => signJwt(claims, HS256_KEY),
    forgeries: [
      ["Pushpin's stock key", signJwt(fresh('pushpin'), 'changeme')],
      [
        "the Fastly CLI's local key",
        signJwt(fresh('pushpin'), 'viceroy_dev_signing_key_dont_use_in_production'),
      ],
      ['an ES256 key', signJwt(fresh('pushpin'), stranger.privateKey)],
    ],
  },
  ...[
    ['PEM', pemOf(fanout.publicKey)],
    ['JWK', JSON.stringify(fanout.publicKey.export({ format: 'jwk' }))],
  ].map(
    ([form, verifyKey]): Setup => ({
      name: `ES256 (Fastly Fanout, public key as ${form})`,
      verifyKey: String(verifyKey),
      iss: SERVICE,
      sign: (claims) => signJwt(claims, fanout.privateKey),
      forgeries: [
        ['another EC key', signJwt(fresh(SERVICE), stranger.privateKey)],
        // The classic confusion: HMAC with the public key's text as the secret.
        ['HS256 keyed with the public key', signJwt(fresh(SERVICE), String(verifyKey))],
        ['HS256 keyed with the PEM', signJwt(fresh(SERVICE), pemOf(fanout.publicKey))],
      ],
    }),
  ),
];

describe.each(SETUPS)('Grip-Sig verified with $name', (setup) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin({ ...STORE, verifyKey: setup.verifyKey, verifyIss: setup.iss });
  });
  afterAll(() => origin.close());

  const right = () => setup.sign(fresh(setup.iss));
  const tampered = () => {
    const [header, , signature] = right().split('.');
    const claims = Buffer.from(JSON.stringify({ ...fresh(setup.iss), admin: true }));
    return `${header}.${claims.toString('base64url')}.${signature}`;
  };
  const unsigned = () => {
    const [, claims] = right().split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    return `${header}.${claims}.`;
  };

  const refused: [string, () => string | undefined][] = [
    ['no signature', () => undefined],
    ['an empty signature', () => ''],
    ['garbage', () => 'not-a-jwt'],
    ...setup.forgeries.map(([why, token]): [string, () => string] => [
      `a signature by ${why}`,
      () => token,
    ]),
    ['an expired signature', () => setup.sign(expired(setup.iss))],
    ['a signature not valid yet', () => setup.sign({ ...fresh(setup.iss), nbf: now() + 600 })],
    [
      'a wrong issuer',
      () => setup.sign(fresh(setup.iss === 'pushpin' ? 'viceroy' : 'fastly:other-service')),
    ],
    ['no issuer', () => setup.sign({ exp: now() + 3600 })],
    ['no expiry (valid forever)', () => setup.sign({ iss: setup.iss })],
    ['claims changed after signing', tampered],
    ['alg "none"', unsigned],
  ];

  const headersWith = (sig: string | undefined, extra: Record<string, string>) => ({
    ...extra,
    ...(sig === undefined ? {} : { 'grip-sig': sig }),
  });

  it.each(refused)('a board stream with %s is refused with 406', async (_why, sig) => {
    const reply = await origin.send('/boards/demo/', {
      headers: headersWith(sig(), { accept: 'text/event-stream' }),
    });
    expect(reply.status).toBe(406);
    expect(JSON.parse(reply.text).error.code).toBe('grip_proxy_required');
    expect(Object.keys(reply.headers).filter((h) => h.startsWith('grip-'))).toEqual([]);
  });

  it.each(refused)('the recovery link with %s is refused with 403', async (_why, sig) => {
    const reply = await origin.send('/boards/demo/recover/', {
      headers: headersWith(sig(), { 'grip-last': 'board-demo; last-id=0' }),
    });
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.text).error.code).toBe('grip_proxy_required');
    expect(Object.keys(reply.headers).filter((h) => h.startsWith('grip-'))).toEqual([]);
  });

  it.each(refused)('a plain JSON GET with %s is served as JSON, not held', async (_why, sig) => {
    const reply = await origin.send('/boards/demo/', { headers: headersWith(sig(), {}) });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text).id).toBe('demo');
    expect(reply.headers['grip-hold']).toBeUndefined();
  });

  it('a board stream with the right signature is held', async () => {
    const reply = await origin.send('/boards/demo/', {
      headers: { accept: 'text/event-stream', 'grip-sig': right() },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['grip-hold']).toBe('stream');
    // The board's own channel and the four pages of the top 100, each after its last id.
    expect(reply.headers['grip-channel']).toMatch(
      /^board-demo; prev-id=\d+, board-demo\.p0; prev-id=\d+, board-demo\.p1; prev-id=\d+, board-demo\.p2; prev-id=\d+, board-demo\.p3; prev-id=\d+$/,
    );
    expect(reply.headers['grip-link']).toBe(
      '</boards/demo/recover/?pages=0%2C1%2C2%2C3>; rel=next',
    );
    expect(reply.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(reply.text).toMatch(/^retry: 2000\n\nevent: board\nid: \d+\ndata: \{"id":"demo"/);
    expect(reply.text).toMatch(
      /\nevent: page\nid: \d+\ndata: \{"version":\d+,"page":0,"players":\[\{/,
    );
  });

  it('a GET that refuses the event stream (q=0) is served as JSON, also from the proxy', async () => {
    const reply = await origin.send('/boards/demo/', {
      headers: { accept: 'text/event-stream;q=0, application/json', 'grip-sig': right() },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['grip-hold']).toBeUndefined();
    expect(JSON.parse(reply.text).id).toBe('demo');
  });

  it('the recovery link with the right signature is held again', async () => {
    const reply = await origin.send('/boards/demo/recover/?pages=0', {
      headers: {
        'grip-sig': right(),
        'grip-last': 'board-demo; last-id=0, board-demo.p0; last-id=0',
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['grip-hold']).toBe('stream');
    expect(reply.headers['grip-link']).toBe('</boards/demo/recover/?pages=0>; rel=next');
    expect(reply.text).toMatch(/^event: board\n[\s\S]*\nevent: page\n/);
  });
});

describe('why the origin checks Grip-Sig itself', () => {
  it('serve-grip 2.0.0 alone takes any Grip-Sig for the proxy (it does not await its own check)', async () => {
    const publisher = new Publisher({
      control_uri: 'http://127.0.0.1:9/',
      verify_key: HS256_KEY,
      verify_iss: 'pushpin',
    });
    const app = express();
    app.use(new ServeGrip({ grip: publisher }));
    app.get('/', (req, res) => {
      res.json({ isProxied: req.grip?.isProxied, isSigned: req.grip?.isSigned });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const forged = signJwt(fresh('pushpin'), 'changeme');
      const reply = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'grip-sig': forged } });
      // If this ever says false, serve-grip has been fixed; origin/grip.ts stays correct either way.
      expect(await reply.json()).toEqual({ isProxied: true, isSigned: true });
      expect((await publisher.validateGripSig(forged)).isSigned).toBe(false);
    } finally {
      server.close();
    }
  });
});

describe("publishing with the token from GRIP_URL's query", () => {
  const TOKEN = 'fastly-api-token-do-not-leak-0123';
  const verifyKey = JSON.stringify(fanout.publicKey.export({ format: 'jwk' }));
  let proxy: RecordingServer;
  beforeAll(async () => {
    proxy = await startRecordingServer();
  });
  afterAll(() => proxy.close());

  const gripUrl = () =>
    `${proxy.url}/service/SVC1?${new URLSearchParams({
      key: TOKEN,
      'verify-iss': 'fastly:SVC1',
      'verify-key': verifyKey,
    })}`;

  /** Every recorded publish carries the bearer token and nothing of it in its URL or body. */
  const expectBearerOnly = () => {
    expect(proxy.requests.length).toBeGreaterThan(0);
    for (const request of proxy.requests) {
      expect(request).toMatchObject({ method: 'POST', path: '/service/SVC1/publish/' });
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.path).not.toContain('?');
      expect(request.body).not.toContain(TOKEN);
      expect(request.body).not.toContain('verify');
    }
  };

  it('the publisher main.ts builds sends it as Authorization: Bearer, never in the URL', async () => {
    proxy.requests.length = 0;
    const config = loadConfig({ GRIP_URL: gripUrl() });
    const publisher = createPublisher({
      ...config,
      verifyKey: config.gripVerifyKey ?? '',
      verifyIss: config.gripVerifyIss,
    });
    await publisher.publishHttpStream('board-b', 'event: x\n\n', '2', '1');
    expectBearerOnly();
    expect(JSON.parse(proxy.requests[0]?.body ?? '')).toEqual({
      items: [
        {
          channel: 'board-b',
          id: '2',
          'prev-id': '1',
          formats: { 'http-stream': { content: 'event: x\n\n' } },
        },
      ],
    });
  });

  it('and so does the whole app when a +1 is published', async () => {
    proxy.requests.length = 0;
    const origin = await startTestOrigin({
      ...STORE,
      env: { GRIP_URL: gripUrl() },
      verifyKey,
      verifyIss: 'fastly:SVC1',
    });
    try {
      const reply = await origin.send('/boards/demo/players/p1/score-add/', { method: 'POST' });
      expect(reply.status).toBe(200);
      await vi.waitFor(() => expect(proxy.requests.length).toBe(1));
      expectBearerOnly();
      expect(origin.logs.join('\n')).not.toContain(TOKEN);
    } finally {
      await origin.close();
    }
  });
});

describe('gripLastIds', () => {
  it.each([
    ['board-b; last-id=7', 7],
    ['board-a; last-id=3, board-b; last-id=9', 9],
    ['board-b;last-id=4', 4],
    ['board-bb; last-id=1', undefined],
    ['board-b; last-id=-1', undefined],
    ['board-b; last-id=abc', undefined],
    ['board-b', undefined],
    [undefined, undefined],
  ])('%j -> %s for board-b', (header, id) => {
    expect(gripLastIds(header).get('board-b')).toBe(id);
  });
});
