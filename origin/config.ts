import { compile as compileTrust } from 'proxy-addr';
import { z } from 'zod';

/**
 * The origin's whole configuration, read once from the environment by `main.ts`. Defaults live
 * here and nowhere else.
 */
export interface Config {
  production: boolean;
  host: string;
  port: number;
  /** Where to publish: Pushpin's publish endpoint locally, Fastly's publish API in production. */
  gripUrl: string;
  /** Credential for publishing (Fastly API token); Pushpin's local endpoint needs none. */
  gripKey: string | undefined;
  /** Verifies `Grip-Sig`. Undefined here means "use the key file beside the data file". */
  gripVerifyKey: string | undefined;
  /** Expected `iss` of `Grip-Sig`. */
  gripVerifyIss: string;
  dataFile: string;
  /** Undefined here means "use the token file beside the data file". */
  adminToken: string | undefined;
  webDist: string;
  /** At most one published update per board per interval; an idle board publishes at once. */
  publishIntervalMs: number;
  /** How many recent versions per board the origin remembers for resuming streams. */
  historySize: number;
  /** Seconds between keep-alive comments on idle streams. */
  keepAliveSeconds: number;
  maxBoards: number;
  maxPlayersPerBoard: number;
  /** Public `+1`s per client: sustained rate per second and burst size. */
  scoreRatePerSecond: number;
  scoreBurst: number;
  /** Proxy addresses whose `X-Forwarded-For` is believed (Express `trust proxy` syntax). */
  trustProxy: string;
  /** Origins allowed by CORS; empty means CORS stays closed. */
  corsOrigins: string[];
  /** Who may frame the app (`frame-ancestors`); embed mode needs more than `'self'`. */
  frameAncestors: string;
}

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const schema = z.object({
  NODE_ENV: z.string().optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: integer(0, 65535).default(3000),
  GRIP_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:5561/'),
  GRIP_KEY: z.string().min(1).optional(),
  // An HS256 secret that short is guessable, and Pushpin's stock `changeme` is public; Fastly's
  // ES256 public key (PEM or JWK) is far longer.
  GRIP_VERIFY_KEY: z
    .string()
    .min(16, "must be at least 16 characters (never Pushpin's stock `changeme`)")
    .optional(),
  GRIP_VERIFY_ISS: z.string().min(1).optional(),
  DATA_FILE: z.string().min(1).default('data/leaderboard.json'),
  // What `Authorization: Bearer <token>` can carry (see auth.ts): a token outside this could
  // never be presented, and the admin would be locked out.
  ADMIN_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .max(512, 'must be at most 512 characters')
    .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces')
    .optional(),
  WEB_DIST: z.string().min(1).default('dist/web'),
  PUBLISH_INTERVAL_MS: integer(0, 60_000).default(50),
  HISTORY_SIZE: integer(0, 1_000_000).default(1000),
  KEEP_ALIVE_SECONDS: integer(1, 3600).default(20),
  MAX_BOARDS: integer(1, 1_000_000).default(100),
  MAX_PLAYERS_PER_BOARD: integer(1, 1_000_000).default(10_000),
  SCORE_RATE_PER_SECOND: integer(1, 1_000_000).default(10),
  SCORE_BURST: integer(1, 1_000_000).default(30),
  TRUST_PROXY: z
    .string()
    .check((ctx) => {
      const problem = trustListProblem(ctx.value);
      if (problem === undefined) return;
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message:
          'must be a comma-separated list of proxy addresses, CIDR ranges or loopback/linklocal/' +
          `uniquelocal; ${problem}`,
      });
    })
    .default('loopback'),
  CORS_ORIGINS: z
    .string()
    .refine(
      (value) => listOf(value).every(isOrigin),
      'must be a comma-separated list of origins like https://app.example (no path, no *)',
    )
    .default(''),
  // Goes into the Content-Security-Policy header as is: one directive's sources, nothing more.
  FRAME_ANCESTORS: z
    .string()
    .regex(
      /^[\x21-\x2b\x2d-\x3a\x3c-\x7e]+(?: [\x21-\x2b\x2d-\x3a\x3c-\x7e]+)*$/,
      "must be sources separated by single spaces, like 'self' https://embed.example",
    )
    .default("'self'"),
});

// What `fastly compute serve` signs Grip-Sig with locally: public, so never trusted in production.
const VICEROY_DEV_KEY = 'viceroy_dev_signing_key_dont_use_in_production';

const listOf = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

// What a browser sends in `Origin`; anything else (a trailing slash, a path) would never match.
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

/**
 * What is wrong with a `trust proxy` list, or undefined when Express will take it. proxy-addr
 * (Express's own parser) decides; Express would otherwise throw a bare TypeError from inside
 * createApp ("invalid IP address: true") where this message names the variable.
 */
function trustListProblem(value: string): string | undefined {
  const entries = value.split(',').map((entry) => entry.trim());
  // proxy-addr reads a bare number as an IPv4 address (`1` is 0.0.0.1), but whoever writes one
  // means a hop count, which Express takes only as a number: refused rather than misread.
  const count = entries.find((entry) => /^\d+$/.test(entry));
  if (count !== undefined) {
    return `"${count}" is a hop count, not an address`;
  }
  try {
    compileTrust(entries);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Thrown at start-up when the environment is not a usable configuration. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and checks the configuration; every problem names the variable and how to fix it. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && e.GRIP_VERIFY_KEY === undefined) {
    throw new ConfigError(
      'GRIP_VERIFY_KEY is required when NODE_ENV=production: without it the origin cannot tell ' +
        "the GRIP proxy from a client. Behind Fastly Fanout, set it to Fastly's public key " +
        '(see README, Deploy) and GRIP_VERIFY_ISS to fastly:<service-id>.',
    );
  }
  if (production && e.GRIP_VERIFY_KEY === VICEROY_DEV_KEY) {
    throw new ConfigError(
      "GRIP_VERIFY_KEY is the Fastly CLI's published local signing key, which anyone can sign " +
        "with: in production use Fastly's public key (see README, Deploy).",
    );
  }
  if (production && e.GRIP_VERIFY_ISS === undefined) {
    throw new ConfigError(
      'GRIP_VERIFY_ISS is required when NODE_ENV=production (fastly:<service-id> behind Fanout).',
    );
  }
  if (production && e.ADMIN_TOKEN === undefined) {
    throw new ConfigError(
      'ADMIN_TOKEN is required when NODE_ENV=production: generate one with ' +
        '`node -e "console.log(crypto.randomBytes(32).toString(\'base64url\'))"`.',
    );
  }
  return {
    production,
    host: e.HOST,
    port: e.PORT,
    gripUrl: e.GRIP_URL,
    gripKey: e.GRIP_KEY,
    gripVerifyKey: e.GRIP_VERIFY_KEY,
    gripVerifyIss: e.GRIP_VERIFY_ISS ?? 'pushpin',
    dataFile: e.DATA_FILE,
    adminToken: e.ADMIN_TOKEN,
    webDist: e.WEB_DIST,
    publishIntervalMs: e.PUBLISH_INTERVAL_MS,
    historySize: e.HISTORY_SIZE,
    keepAliveSeconds: e.KEEP_ALIVE_SECONDS,
    maxBoards: e.MAX_BOARDS,
    maxPlayersPerBoard: e.MAX_PLAYERS_PER_BOARD,
    scoreRatePerSecond: e.SCORE_RATE_PER_SECOND,
    scoreBurst: e.SCORE_BURST,
    trustProxy: e.TRUST_PROXY,
    corsOrigins: listOf(e.CORS_ORIGINS),
    frameAncestors: e.FRAME_ANCESTORS,
  };
}
