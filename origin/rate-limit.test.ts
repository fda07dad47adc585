import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKey, RateLimiter } from './rate-limit.ts';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from './test-origin.ts';

// The public +1 is limited per client: SCORE_BURST at once, refilled at SCORE_RATE_PER_SECOND.
// The client is the socket's address, or, when the socket is a trusted proxy (TRUST_PROXY, loopback
// by default: our Pushpin), the right-most address in X-Forwarded-For that is not trusted.
// On every store (vitest.config.ts).
const STORE = storeUnderTest();

const plusOne = (origin: TestOrigin, from?: string, player = 'p1') =>
  origin.send(`/boards/demo/players/${player}/score-add/`, {
    method: 'POST',
    headers: from === undefined ? {} : { 'x-forwarded-for': from },
  });

const statuses = async (origin: TestOrigin, from: string | undefined, count: number) => {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await plusOne(origin, from)).status);
  return result;
};

describe('behind a trusted proxy (loopback, the default)', () => {
  let origin: TestOrigin;
  let time = 1_000_000;
  beforeAll(async () => {
    origin = await startTestOrigin({
      ...STORE,
      env: { SCORE_RATE_PER_SECOND: '2', SCORE_BURST: '3' },
      clock: { now: () => time },
    });
  });
  afterAll(() => origin.close());

  it('a burst from one client is cut off with 429 and Retry-After, and the 429 changes nothing', async () => {
    expect(await statuses(origin, '203.0.113.1', 3)).toEqual([200, 200, 200]);
    const before = await origin.snapshot();
    const reply = await plusOne(origin, '203.0.113.1');
    expect(reply.status).toBe(429);
    expect(reply.headers['retry-after']).toBe('1');
    expect(JSON.parse(reply.text)).toStrictEqual({
      error: { code: 'rate_limited', message: expect.any(String) },
    });
    expect(await origin.snapshot()).toStrictEqual(before);
  });

  it('another client is unaffected', async () => {
    expect(await statuses(origin, '203.0.113.2', 3)).toEqual([200, 200, 200]);
  });

  it('the first client gets tokens back as time passes', async () => {
    time += 500;
    expect(await statuses(origin, '203.0.113.1', 2)).toEqual([200, 429]);
    time += 1500;
    expect(await statuses(origin, '203.0.113.1', 4)).toEqual([200, 200, 200, 429]);
  });

  it('Retry-After rounds the wait up to whole seconds', async () => {
    const limited = new RateLimiter(0.25, 1, () => 0);
    limited.take('x');
    expect(limited.take('x')).toEqual({ allowed: false, retryAfterSeconds: 4 });
  });

  it('a limited client may not slip past by adding its own X-Forwarded-For entries', async () => {
    // Pushpin appends the real peer, so the client's own entries are to the left of it.
    const reply = await plusOne(origin, '198.51.100.7, 10.0.0.1, 203.0.113.1');
    expect(reply.status).toBe(429);
  });

  it('the admin is not limited', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await origin.send('/boards/demo/players/p1/score-add/', {
        method: 'POST',
        headers: { 'x-forwarded-for': '203.0.113.1', authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(reply.status).toBe(200);
    }
  });

  it('IPv6 addresses in one /64 share a bucket; another /64 does not', async () => {
    expect(await statuses(origin, '2001:db8:1:2::1', 3)).toEqual([200, 200, 200]);
    expect(await statuses(origin, '2001:db8:1:2:ffff:ffff:ffff:ffff', 1)).toEqual([429]);
    expect(await statuses(origin, '2001:DB8:1:2:0:0:0:abcd', 1)).toEqual([429]);
    expect(await statuses(origin, '2001:db8:1:3::1', 1)).toEqual([200]);
  });

  it('an IPv4 client written as IPv4-mapped IPv6 is the same client', async () => {
    expect(await statuses(origin, '203.0.113.9', 3)).toEqual([200, 200, 200]);
    expect(await statuses(origin, '::ffff:203.0.113.9', 1)).toEqual([429]);
  });

  it('a +1 for an unknown player is a 404 and uses up no token', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await plusOne(origin, '203.0.113.20', 'nope')).status).toBe(404);
    }
    expect(await statuses(origin, '203.0.113.20', 4)).toEqual([200, 200, 200, 429]);
  });
});

describe('X-Forwarded-For from a peer that is not a trusted proxy', () => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin({
      ...STORE,
      env: { SCORE_RATE_PER_SECOND: '1', SCORE_BURST: '3', TRUST_PROXY: '10.0.0.0/8' },
    });
  });
  afterAll(() => origin.close());

  it('is ignored: every claimed address counts against the real peer', async () => {
    const replies = [];
    for (const claimed of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) {
      replies.push((await plusOne(origin, claimed)).status);
    }
    expect(replies).toEqual([200, 200, 200, 429]);
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['64:ff9b::c000:201', '64:ff9b:0:0::/64'],
    ['::192.0.2.1', '0:0:0:0::/64'],
    ['2001:db8:1:2:3:4:192.0.2.1', '2001:db8:1:2::/64'],
    ['fe80::1%eth-0.5', 'fe80:0:0:0::/64'],
    ['1', '1'],
    ['0x7f.0.0.1', '0x7f.0.0.1'],
    ['not an address', 'not an address'],
    ['', ''],
    [undefined, 'unknown'],
  ])('%s -> %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });
});
