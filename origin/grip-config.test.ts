import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { verifyKeyProblem } from './grip-config.ts';

// Every combination of the four GRIP variables, in production and out of it, against the rules
// written out plainly below: what must be refused (and which variables the refusal names), what
// must start, and that no secret is ever quoted in a refusal.

const SERVICE = 'SU1Z0isxPaozGVKXdv0eY';
const FASTLY = `https://api.fastly.com/service/${SERVICE}`;
const URI_TOKEN = 'uri-token-0123456789abcdef';
const OTHER_TOKEN = 'env-token-fedcba9876543210';
const HS_SECRET = 'hs256-shared-secret-0123456789';
const ADMIN_TOKEN = 'k3Jv9pQ2xW7mN4bR8tY1zL6cH5dF0gAs';

const jwkOf = () =>
  JSON.stringify(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  );
const FANOUT_KEY = jwkOf();
const OTHER_KEY = jwkOf();

const URLS = {
  unset: undefined,
  loopback: 'http://127.0.0.1:5561/',
  fastly: FASTLY,
  'fastly URI': `${FASTLY}?${new URLSearchParams({
    key: URI_TOKEN,
    'verify-iss': `fastly:${SERVICE}`,
    'verify-key': FANOUT_KEY,
  })}`,
  remote: 'https://pushpin.internal.example:5561/',
} as const;
const KEYS = { unset: undefined, 'same as URI': URI_TOKEN, other: OTHER_TOKEN } as const;
const VERIFY_KEYS = {
  unset: undefined,
  'same as URI': FANOUT_KEY,
  'other public key': OTHER_KEY,
  'HS256 secret': HS_SECRET,
} as const;
const ISSUERS = {
  unset: undefined,
  'the service': `fastly:${SERVICE}`,
  'another service': 'fastly:AnotherService1',
} as const;

interface Combination {
  production: boolean;
  url: keyof typeof URLS;
  key: keyof typeof KEYS;
  verifyKey: keyof typeof VERIFY_KEYS;
  iss: keyof typeof ISSUERS;
}

const combinations: Combination[] = [true, false].flatMap((production) =>
  (Object.keys(URLS) as (keyof typeof URLS)[]).flatMap((url) =>
    (Object.keys(KEYS) as (keyof typeof KEYS)[]).flatMap((key) =>
      (Object.keys(VERIFY_KEYS) as (keyof typeof VERIFY_KEYS)[]).flatMap((verifyKey) =>
        (Object.keys(ISSUERS) as (keyof typeof ISSUERS)[]).map((iss) => ({
          production,
          url,
          key,
          verifyKey,
          iss,
        })),
      ),
    ),
  ),
);

/** The values in effect: a variable, else what GRIP_URL's query says. */
function effective(c: Combination) {
  const inUri = c.url === 'fastly URI';
  return {
    inUri,
    fastly: c.url === 'fastly' || inUri,
    key: KEYS[c.key] ?? (inUri ? URI_TOKEN : undefined),
    verifyKey: VERIFY_KEYS[c.verifyKey] ?? (inUri ? FANOUT_KEY : undefined),
    iss: ISSUERS[c.iss] ?? (inUri ? `fastly:${SERVICE}` : undefined),
  };
}

/** The rules, one line each: what a combination must be refused for. */
function expectedRefusals(c: Combination): RegExp[] {
  const { inUri, fastly, key, verifyKey, iss } = effective(c);
  const rules: [boolean, RegExp][] = [
    [inUri && c.key === 'other', /GRIP_URL's key= and GRIP_KEY disagree/],
    [
      inUri && ['other public key', 'HS256 secret'].includes(c.verifyKey),
      /GRIP_URL's verify-key= and GRIP_VERIFY_KEY disagree/,
    ],
    [inUri && c.iss === 'another service', /GRIP_URL's verify-iss= and GRIP_VERIFY_ISS disagree/],
    [fastly && iss !== undefined && iss !== `fastly:${SERVICE}`, /GRIP_URL is Fastly service/],
    [fastly && verifyKey === HS_SECRET, /GRIP_VERIFY_KEY is a shared secret.*ES256/],
    [c.production && c.url === 'unset', /GRIP_URL is required when NODE_ENV=production/],
    [c.production && c.url === 'loopback', /GRIP_URL points at this machine \(127\.0\.0\.1:5561\)/],
    [c.production && fastly && key === undefined, /GRIP_KEY is required.*Fastly API token/],
    [c.production && verifyKey === undefined, /GRIP_VERIFY_KEY is required/],
    [c.production && iss === undefined, /GRIP_VERIFY_ISS is required/],
  ];
  return rules.filter(([applies]) => applies).map(([, message]) => message);
}

function envOf(c: Combination): Record<string, string | undefined> {
  return {
    NODE_ENV: c.production ? 'production' : undefined,
    ADMIN_TOKEN,
    GRIP_URL: URLS[c.url],
    GRIP_KEY: KEYS[c.key],
    GRIP_VERIFY_KEY: VERIFY_KEYS[c.verifyKey],
    GRIP_VERIFY_ISS: ISSUERS[c.iss],
  };
}

const title = (c: Combination) =>
  `${c.production ? 'production' : 'development'}: GRIP_URL ${c.url}, GRIP_KEY ${c.key}, ` +
  `GRIP_VERIFY_KEY ${c.verifyKey}, GRIP_VERIFY_ISS ${c.iss}`;

function expectStarted(c: Combination): void {
  const config = loadConfig(envOf(c));
  const { key, verifyKey } = effective(c);
  const local = c.url === 'unset' || c.url === 'loopback';
  expect(config).toMatchObject({
    gripUrl: local ? 'http://127.0.0.1:5561/' : expect.any(String),
    gripKey: key,
    gripVerifyKey: verifyKey,
  });
  // Credentials leave the URL: js-grip sends the key as a bearer token.
  expect(config.gripUrl).not.toMatch(/[?#@]/);
}

function expectRefused(c: Combination, expected: RegExp[]): void {
  let message = '';
  expect(() => {
    try {
      loadConfig(envOf(c));
    } catch (error) {
      message = (error as Error).message;
      throw error;
    }
  }).toThrow(ConfigError);
  for (const pattern of expected) expect(message).toMatch(pattern);
  // One problem is the message; several are listed under a heading, one a line.
  const lines = message.split('\n').filter((line) => line.trim() !== '');
  expect(lines.length).toBe(expected.length === 1 ? 1 : expected.length + 1);
  for (const secret of [URI_TOKEN, OTHER_TOKEN, HS_SECRET, ADMIN_TOKEN]) {
    expect(message).not.toContain(secret);
  }
}

describe('the GRIP variables, every combination', () => {
  it.each(combinations.map((c) => [title(c), c] as const))('%s', (_, c) => {
    const expected = expectedRefusals(c);
    if (expected.length === 0) expectStarted(c);
    else expectRefused(c, expected);
  });

  it('cover both outcomes in and out of production', () => {
    const outcomes = combinations.map((c) => [c.production, expectedRefusals(c).length === 0]);
    for (const production of [true, false]) {
      for (const starts of [true, false]) {
        expect(outcomes).toContainEqual([production, starts]);
      }
    }
  });
});

describe("GRIP_URL in js-grip's URI form", () => {
  it('splits into the URL, the token and the verify settings', () => {
    const config = loadConfig({ GRIP_URL: URLS['fastly URI'] });
    expect(config).toMatchObject({
      gripUrl: FASTLY,
      gripKey: URI_TOKEN,
      gripVerifyKey: FANOUT_KEY,
      gripVerifyIss: `fastly:${SERVICE}`,
    });
  });

  it('takes the same value twice (in the URL and in its variable)', () => {
    expect(loadConfig({ GRIP_URL: URLS['fastly URI'], GRIP_KEY: URI_TOKEN }).gripKey).toBe(
      URI_TOKEN,
    );
  });

  it.each([
    ['an unknown parameter', `${FASTLY}?key=t&verify_key=x`, /unknown parameter verify_key/],
    ['iss (JWT publishing)', `${FASTLY}?iss=me&key=t`, /unknown parameter iss/],
    ['a parameter twice', `${FASTLY}?key=a&key=b`, /key= is given more than once/],
    ['an empty key', `${FASTLY}?key=`, /key= is empty/],
    ['user:password', 'https://user:pass@pushpin.example/', /user:password@ is not supported/],
    ['a fragment', 'http://127.0.0.1:5561/#x', /#fragment/],
    ['Fastly over http', `http://api.fastly.com/service/${SERVICE}`, /https:\/\/ only/],
    ['a Fastly URL without a service', 'https://api.fastly.com/publish/', /service\/<service-id>/],
  ])('refuses %s, naming GRIP_URL', (_, value, message) => {
    expect(() => loadConfig({ GRIP_URL: value })).toThrow(message);
    expect(() => loadConfig({ GRIP_URL: value })).toThrow(/GRIP_URL/);
  });

  it('never quotes the token in a refusal', () => {
    expect(() => loadConfig({ GRIP_URL: `${FASTLY}?key=${URI_TOKEN}&x=1` })).toThrow(ConfigError);
    try {
      loadConfig({ GRIP_URL: `${FASTLY}?key=${URI_TOKEN}&x=1`, GRIP_KEY: OTHER_TOKEN });
    } catch (error) {
      expect((error as Error).message).not.toContain(URI_TOKEN);
    }
  });
});

describe('verify keys in the forms js-grip reads', () => {
  // A key whose PEM has a + in it, so that losing it to a URL query can be tested.
  const pemOf = (pair: ReturnType<typeof generateKeyPairSync>) =>
    pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  while (!pemOf(pair).includes('+')) pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = pemOf(pair);
  const base64Pem = Buffer.from(pem).toString('base64');

  it.each([
    ['a PEM public key', pem],
    ['a PEM as base64:', `base64:${base64Pem}`],
    ['a JWK', FANOUT_KEY],
    ['a JWK as base64:', `base64:${Buffer.from(FANOUT_KEY).toString('base64')}`],
    ['an oct JWK', '{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}'],
    ['an HS256 secret', HS_SECRET],
  ])('accepts %s', (_, key) => {
    expect(verifyKeyProblem(key)).toBeUndefined();
  });

  it.each([
    ['a PEM whose + became a space', pem.replace(/\+/g, ' '), /PEM public key.*%2B/],
    [
      'a PEM private key',
      pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      /PEM/,
    ],
    ['base64: whose + became a space', 'base64:LS0tLS1CRUdJTi BQVUJMSUMgS0VZLS0tLS0K', /%2B/],
    ['a base64 PEM without its prefix', base64Pem, /write it as base64:/],
    ['JSON that is no JWK', '{"key":"value-value-value"}', /JWK/],
    ['a short secret', 'changeme', /at least 16 characters/],
  ])('refuses %s, saying how to fix it', (_, key, message) => {
    expect(verifyKeyProblem(key)).toMatch(message);
  });

  it("refuses a PEM in GRIP_URL's verify-key whose + was not escaped, naming where it came from", () => {
    const url = `${FASTLY}?key=${URI_TOKEN}&verify-key=${pem.replace(/\n/g, '%0A')}`;
    expect(() => loadConfig({ GRIP_URL: url })).toThrow(/GRIP_URL's verify-key: .*%2B/s);
  });
});
