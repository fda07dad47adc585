import { createPublicKey } from 'node:crypto';
import { parseGripUri } from '@fanoutio/grip';
import ipaddr from 'ipaddr.js';

/**
 * Where the origin publishes and how it checks `Grip-Sig`: `GRIP_URL` (a plain URL, or js-grip's
 * URI form with `key`, `verify-iss` and `verify-key` in its query) merged with `GRIP_KEY`,
 * `GRIP_VERIFY_ISS` and `GRIP_VERIFY_KEY`.
 */
export interface GripSettings {
  /** The publish endpoint's base, with no credentials and no query: js-grip appends `publish/`. */
  url: string;
  /** The publish token, sent as `Authorization: Bearer` (never in the URL). */
  key: string | undefined;
  verifyKey: string | undefined;
  verifyIss: string | undefined;
  /** The service id when `url` is Fastly's API (`https://api.fastly.com/service/<id>`). */
  fastlyServiceId: string | undefined;
  /** True when `url` points at this machine (Pushpin run beside the origin). */
  loopback: boolean;
}

/** The variables this reads (already checked one by one by config.ts). */
export interface GripEnv {
  GRIP_URL?: string | undefined;
  GRIP_KEY?: string | undefined;
  GRIP_VERIFY_KEY?: string | undefined;
  GRIP_VERIFY_ISS?: string | undefined;
}

/** Local Pushpin's publish endpoint: the default outside production. */
export const LOCAL_GRIP_URL = 'http://127.0.0.1:5561/';

const FASTLY_API_HOST = 'api.fastly.com';
const URI_PARAMS = ['key', 'verify-iss', 'verify-key'] as const;
// What `fastly compute serve` signs Grip-Sig with locally: public, so never trusted in production.
const VICEROY_DEV_KEY = 'viceroy_dev_signing_key_dont_use_in_production';
const FIX_GRIP_URL =
  'set GRIP_URL=https://api.fastly.com/service/<service-id> with GRIP_KEY=<Fastly API token>, ' +
  'or the js-grip form https://api.fastly.com/service/<service-id>?key=<token>' +
  '&verify-iss=fastly:<service-id>&verify-key=<key>';

/**
 * Resolves the GRIP settings, or lists every problem, each naming the variables involved and how
 * to fix it. Secrets never appear in a problem: only the names of the variables that hold them.
 */
export function resolveGrip(
  env: GripEnv,
  production: boolean,
): { settings: GripSettings; problems: [] } | { settings: undefined; problems: string[] } {
  const problems: string[] = [];
  if (production && env.GRIP_URL === undefined) {
    problems.push(
      `GRIP_URL is required when NODE_ENV=production (the default publishes to a Pushpin on ` +
        `this machine): ${FIX_GRIP_URL}.`,
    );
  }
  const fromUrl = readGripUrl(env.GRIP_URL ?? LOCAL_GRIP_URL, problems);
  if (fromUrl === undefined) return { settings: undefined, problems };
  const settings: GripSettings = {
    url: fromUrl.url,
    key: agree('key', 'GRIP_KEY', fromUrl.key, env.GRIP_KEY, problems),
    verifyKey: agree(
      'verify-key',
      'GRIP_VERIFY_KEY',
      fromUrl.verifyKey,
      env.GRIP_VERIFY_KEY,
      problems,
    ),
    verifyIss: agree(
      'verify-iss',
      'GRIP_VERIFY_ISS',
      fromUrl.verifyIss,
      env.GRIP_VERIFY_ISS,
      problems,
    ),
    fastlyServiceId: fromUrl.fastlyServiceId,
    loopback: fromUrl.loopback,
  };
  const source = env.GRIP_VERIFY_KEY === undefined ? "GRIP_URL's verify-key" : 'GRIP_VERIFY_KEY';
  if (settings.verifyKey !== undefined) {
    const problem = verifyKeyProblem(settings.verifyKey);
    if (problem !== undefined) problems.push(`${source}: ${problem}`);
  }
  problems.push(...fastlyProblems(settings, source));
  if (production)
    problems.push(...productionProblems(settings, env.GRIP_URL !== undefined, source));
  return problems.length === 0 ? { settings, problems: [] } : { settings: undefined, problems };
}

/** What a `GRIP_URL` says, before it is checked against the separate variables. */
type FromUrl = GripSettings;

/** Splits GRIP_URL with js-grip's own `parseGripUri`, after refusing what it would pass along. */
function readGripUrl(value: string, problems: string[]): FromUrl | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`GRIP_URL: must be a URL (${FIX_GRIP_URL}; locally ${LOCAL_GRIP_URL})`);
    return undefined;
  }
  const before = problems.length;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push('GRIP_URL: must be an http:// or https:// URL');
  }
  if (url.username !== '' || url.password !== '') {
    problems.push(
      'GRIP_URL: user:password@ is not supported; give the token as key=<token> or GRIP_KEY',
    );
  }
  if (url.hash !== '') problems.push('GRIP_URL: must not have a #fragment');
  const names = [...url.searchParams.keys()];
  const unknown = names.filter((name) => !(URI_PARAMS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    // Anything left in the query would be sent along with every publish, in the URL.
    problems.push(
      `GRIP_URL: unknown parameter ${unknown.join(', ')}; the ones read are ${URI_PARAMS.join(', ')}`,
    );
  }
  for (const name of URI_PARAMS) {
    const values = url.searchParams.getAll(name);
    if (values.length > 1) problems.push(`GRIP_URL: ${name}= is given more than once`);
    if (values.includes('')) problems.push(`GRIP_URL: ${name}= is empty`);
  }
  const fastlyServiceId = fastlyServiceOf(url, problems);
  if (problems.length > before) return undefined;
  const parsed = parseGripUri(value);
  return {
    url: parsed.control_uri,
    key: stringOrUndefined(parsed.key),
    verifyKey: stringOrUndefined(parsed.verify_key),
    verifyIss: parsed.verify_iss,
    fastlyServiceId,
    loopback: isLoopback(url.hostname),
  };
}

function fastlyServiceOf(url: URL, problems: string[]): string | undefined {
  if (url.hostname !== FASTLY_API_HOST) return undefined;
  if (url.protocol !== 'https:') {
    problems.push("GRIP_URL: Fastly's API takes https:// only (the token would travel in clear)");
  }
  const id = /^\/service\/([A-Za-z0-9]+)\/?$/.exec(url.pathname)?.[1];
  if (id === undefined) {
    problems.push('GRIP_URL: a Fastly URL is https://api.fastly.com/service/<service-id>');
  }
  return id;
}

const stringOrUndefined = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** One value that may be given in GRIP_URL or in its own variable: both, only if they agree. */
function agree(
  param: string,
  variable: string,
  fromUrl: string | undefined,
  fromEnv: string | undefined,
  problems: string[],
): string | undefined {
  if (fromUrl !== undefined && fromEnv !== undefined && fromUrl !== fromEnv) {
    problems.push(
      `GRIP_URL's ${param}= and ${variable} disagree: give it in one of them (or the same value in both)`,
    );
  }
  return fromEnv ?? fromUrl;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (!ipaddr.isValid(host)) return false;
  const address = ipaddr.process(host);
  return ['loopback', 'unspecified'].includes(address.range());
}

/** What contradicts the Fastly service GRIP_URL names. */
function fastlyProblems(settings: GripSettings, keySource: string): string[] {
  const id = settings.fastlyServiceId;
  if (id === undefined) return [];
  const problems: string[] = [];
  if (settings.verifyIss !== undefined && settings.verifyIss !== `fastly:${id}`) {
    problems.push(
      `GRIP_URL is Fastly service ${id} but GRIP_VERIFY_ISS (or GRIP_URL's verify-iss=) is ` +
        `${settings.verifyIss}: Fanout signs Grip-Sig with iss=fastly:${id}.`,
    );
  }
  if (settings.verifyKey !== undefined && !isPublicKey(settings.verifyKey)) {
    problems.push(
      `${keySource} is a shared secret, but GRIP_URL is Fastly Fanout, which signs Grip-Sig ` +
        "with ES256: use Fastly's public key (JWK or PEM, see README, Deploy).",
    );
  }
  return problems;
}

function productionProblems(settings: GripSettings, urlGiven: boolean, keySource: string) {
  const problems: string[] = [];
  if (urlGiven && settings.loopback) {
    problems.push(
      `GRIP_URL points at this machine (${new URL(settings.url).host}) while NODE_ENV=production: ` +
        `${FIX_GRIP_URL}.`,
    );
  }
  if (settings.fastlyServiceId !== undefined && settings.key === undefined) {
    problems.push(
      "GRIP_KEY is required to publish through Fastly's API when NODE_ENV=production: set it to " +
        `a Fastly API token that may publish on service ${settings.fastlyServiceId} ` +
        '(or put it in GRIP_URL as key=<token>).',
    );
  }
  if (settings.verifyKey === undefined) {
    problems.push(
      'GRIP_VERIFY_KEY is required when NODE_ENV=production: without it the origin cannot tell ' +
        "the GRIP proxy from a client. Behind Fastly Fanout, set it to Fastly's public key " +
        "(see README, Deploy), or give it as GRIP_URL's verify-key=, and GRIP_VERIFY_ISS to " +
        'fastly:<service-id>.',
    );
  } else if (settings.verifyKey === VICEROY_DEV_KEY) {
    problems.push(
      `${keySource} is the Fastly CLI's published local signing key, which anyone can sign ` +
        "with: in production use Fastly's public key (see README, Deploy).",
    );
  }
  if (settings.verifyIss === undefined) {
    problems.push(
      'GRIP_VERIFY_ISS is required when NODE_ENV=production (fastly:<service-id> behind Fanout; ' +
        "or GRIP_URL's verify-iss=).",
    );
  }
  return problems;
}

/**
 * What is wrong with a key that verifies `Grip-Sig`, in the forms js-grip reads (a PEM, a JWK, an
 * HS256 secret, any of them as `base64:<...>`), or undefined. A key js-grip cannot read would
 * refuse every stream at run time; here it stops the start instead.
 */
export function verifyKeyProblem(key: string): string | undefined {
  if (key.startsWith('base64:')) {
    const encoded = key.slice('base64:'.length);
    if (encoded.includes(' ')) {
      return 'has a space in its base64: a + in a URL query is read as a space; write + as %2B';
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return 'is not valid base64 after base64:';
    return verifyKeyProblem(Buffer.from(encoded, 'base64').toString('utf8'));
  }
  if (key.startsWith('-----')) {
    return isPublicKey(key)
      ? undefined
      : 'is not a readable PEM public key (-----BEGIN PUBLIC KEY----- ...); in a URL query, ' +
          'write + as %2B and line breaks as %0A';
  }
  if (key.startsWith('{')) {
    return isJwk(key) ? undefined : 'is not a readable JWK (JSON with "kty")';
  }
  if (key.length < 16) return "must be at least 16 characters (never Pushpin's stock `changeme`)";
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(key) && decodesToKey(key)) {
    return 'looks like a base64-encoded key: write it as base64:<the same text>';
  }
  return undefined;
}

/** True for a PEM public key or an asymmetric JWK (what Fanout's ES256 needs). */
function isPublicKey(key: string): boolean {
  const text = key.startsWith('base64:')
    ? Buffer.from(key.slice('base64:'.length), 'base64').toString('utf8')
    : key;
  try {
    if (text.startsWith('-----BEGIN PUBLIC KEY-----')) {
      return createPublicKey(text).type === 'public';
    }
    if (text.startsWith('{')) {
      const jwk: unknown = JSON.parse(text);
      if (!isObject(jwk) || jwk.kty === 'oct') return false;
      return createPublicKey({ key: jwk, format: 'jwk' }).type === 'public';
    }
  } catch {
    return false;
  }
  return false;
}

function isJwk(text: string): boolean {
  try {
    const jwk: unknown = JSON.parse(text);
    if (!isObject(jwk) || typeof jwk.kty !== 'string') return false;
    return jwk.kty === 'oct' ? typeof jwk.k === 'string' : isPublicKey(text);
  } catch {
    return false;
  }
}

function decodesToKey(base64: string): boolean {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  return text.startsWith('-----BEGIN') || (text.startsWith('{') && text.includes('"kty"'));
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
