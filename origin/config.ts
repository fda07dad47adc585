import { compile as compileTrust } from 'proxy-addr';
import { z } from 'zod';
import { type GripSettings, resolveGrip } from './grip-config.ts';

/**
 * The origin's whole configuration, read once from the environment by `main.ts`. Defaults live
 * here and nowhere else.
 */
export interface Config {
  production: boolean;
  host: string;
  port: number;
  /**
   * Where to publish (Pushpin's publish endpoint locally, Fastly's publish API in production),
   * without credentials: the URL as js-grip's Publisher takes it (`publish/` is appended).
   */
  gripUrl: string;
  /** Credential for publishing (Fastly API token), sent as a bearer token; Pushpin needs none. */
  gripKey: string | undefined;
  /** Verifies `Grip-Sig`. Undefined here means "use the key file beside the data file". */
  gripVerifyKey: string | undefined;
  /** Expected `iss` of `Grip-Sig`. */
  gripVerifyIss: string;
  /** JSON lines (`json`) or, for people at a terminal, `pretty` (pino-pretty, a dev dependency). */
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** Where GET /metrics is served; undefined: nowhere. */
  metrics: { port: number; host: string } | undefined;
  /** Largest body `POST /admin/restore` reads. */
  restoreMaxBytes: number;
  dataFile: string;
  /** Undefined here means "use the token file beside the data file". */
  adminToken: string | undefined;
  webDist: string;
  /** At most one published update per board per interval; an idle board publishes at once. */
  publishIntervalMs: number;
  /** Most page messages one board publishes per interval; the other changed pages wait a turn. */
  pagesPerFlush: number;
  /** How long viewers spread their reloads over after a bulk change (a reset, a restore). */
  reloadSpreadMs: number;
  /** Largest body a player import may have. */
  importMaxBytes: number;
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
  /** Where boards live when not in the embedded store (`REDIS_URL`); undefined: embedded. */
  redis: RedisSettings | undefined;
}

/** The Redis store's settings (see README, "Scaling out"). */
export interface RedisSettings {
  /** One node's URL, or a Redis Cluster's seed nodes. */
  urls: string[];
  /** Whether `urls` are a Redis Cluster's seed nodes. */
  cluster: boolean;
  /** Replicas that must hold a write (`WAIT`) before it is acknowledged. */
  waitReplicas: number;
  /** How long a write waits for them; past it the write is answered 503. */
  waitTimeoutMs: number;
  /** How long a board's publisher lease lasts unless renewed (a dead origin's lapses then). */
  leaseMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
  // Split and checked with the other GRIP variables in grip-config.ts.
  GRIP_URL: z.string().optional(),
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
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(LOG_FORMATS).default('json'),
  METRICS_PORT: integer(1, 65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  RESTORE_MAX_MB: integer(1, 1024).default(64),
  PUBLISH_INTERVAL_MS: integer(0, 60_000).default(50),
  PUBLISH_PAGES_PER_FLUSH: integer(1, 1_000).default(16),
  RELOAD_SPREAD_MS: integer(0, 600_000).default(10_000),
  IMPORT_MAX_MB: integer(1, 4_096).default(256),
  KEEP_ALIVE_SECONDS: integer(1, 3600).default(20),
  MAX_BOARDS: integer(1, 1_000_000).default(100),
  MAX_PLAYERS_PER_BOARD: integer(1, 10_000_000).default(1_000_000),
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
  REDIS_URL: z
    .string()
    .refine(
      (value) => listOf(value).length > 0 && listOf(value).every(isRedisUrl),
      'must be a redis:// (or rediss://) URL like redis://127.0.0.1:6379, or a comma-separated ' +
        "list of a Redis Cluster's seed nodes",
    )
    .optional(),
  REDIS_CLUSTER: z.enum(['true', 'false']).optional(),
  REDIS_WAIT_REPLICAS: integer(0, 16).optional(),
  REDIS_WAIT_TIMEOUT_MS: integer(1, 60_000).default(1_000),
  PUBLISH_LEASE_MS: integer(200, 600_000).default(2_000),
  // Goes into the Content-Security-Policy header as is: one directive's sources, nothing more.
  FRAME_ANCESTORS: z
    .string()
    .regex(
      /^[\x21-\x2b\x2d-\x3a\x3c-\x7e]+(?: [\x21-\x2b\x2d-\x3a\x3c-\x7e]+)*$/,
      "must be sources separated by single spaces, like 'self' https://embed.example",
    )
    .default("'self'"),
});

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

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return /^rediss?:$/.test(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Redis from its variables. A list of several nodes is a cluster; so is one node with
 * `REDIS_CLUSTER=true`. A cluster waits for one replica by default (a failover loses nothing
 * acknowledged); a single node for none (it has no replica to wait for).
 */
function redisOf(e: Env): RedisSettings | undefined {
  if (e.REDIS_URL === undefined) return undefined;
  const urls = listOf(e.REDIS_URL);
  const cluster = e.REDIS_CLUSTER === undefined ? urls.length > 1 : e.REDIS_CLUSTER === 'true';
  return {
    urls,
    cluster,
    waitReplicas: e.REDIS_WAIT_REPLICAS ?? (cluster ? 1 : 0),
    waitTimeoutMs: e.REDIS_WAIT_TIMEOUT_MS,
    leaseMs: e.PUBLISH_LEASE_MS,
  };
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
  const parsed = schema.safeParse(presentOf(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const grip = resolveGrip(e, production);
  const problems = [...grip.problems, ...otherProblems(e, production)];
  if (grip.settings === undefined || problems.length > 0) {
    throw new ConfigError(
      problems.length === 1
        ? String(problems[0])
        : `invalid configuration:\n  ${problems.join('\n  ')}`,
    );
  }
  return configOf(e, production, grip.settings);
}

type Env = z.infer<typeof schema>;

/** The variables that are set: an empty one counts as unset. */
const presentOf = (env: Readonly<Record<string, string | undefined>>) =>
  Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));

function otherProblems(e: Env, production: boolean): string[] {
  const problems: string[] = [];
  if (production && e.ADMIN_TOKEN === undefined) {
    problems.push(
      'ADMIN_TOKEN is required when NODE_ENV=production: generate one with ' +
        '`node -e "console.log(crypto.randomBytes(32).toString(\'base64url\'))"`.',
    );
  }
  if (e.REDIS_CLUSTER === 'false' && e.REDIS_URL !== undefined && listOf(e.REDIS_URL).length > 1) {
    problems.push(
      'REDIS_URL lists several nodes but REDIS_CLUSTER=false: give one URL, or drop REDIS_CLUSTER.',
    );
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) {
    problems.push('METRICS_PORT and PORT are the same: give metrics a port of their own.');
  }
  return problems;
}

function configOf(e: Env, production: boolean, grip: GripSettings): Config {
  return {
    production,
    host: e.HOST,
    port: e.PORT,
    gripUrl: grip.url,
    gripKey: grip.key,
    gripVerifyKey: grip.verifyKey,
    gripVerifyIss: grip.verifyIss ?? 'pushpin',
    dataFile: e.DATA_FILE,
    adminToken: e.ADMIN_TOKEN,
    webDist: e.WEB_DIST,
    publishIntervalMs: e.PUBLISH_INTERVAL_MS,
    pagesPerFlush: e.PUBLISH_PAGES_PER_FLUSH,
    reloadSpreadMs: e.RELOAD_SPREAD_MS,
    importMaxBytes: e.IMPORT_MAX_MB * 2 ** 20,
    keepAliveSeconds: e.KEEP_ALIVE_SECONDS,
    maxBoards: e.MAX_BOARDS,
    maxPlayersPerBoard: e.MAX_PLAYERS_PER_BOARD,
    scoreRatePerSecond: e.SCORE_RATE_PER_SECOND,
    scoreBurst: e.SCORE_BURST,
    trustProxy: e.TRUST_PROXY,
    corsOrigins: listOf(e.CORS_ORIGINS),
    frameAncestors: e.FRAME_ANCESTORS,
    redis: redisOf(e),
    logFormat: e.LOG_FORMAT,
    logLevel: e.LOG_LEVEL,
    metrics:
      e.METRICS_PORT === undefined ? undefined : { port: e.METRICS_PORT, host: e.METRICS_HOST },
    restoreMaxBytes: e.RESTORE_MAX_MB * 1024 * 1024,
  };
}

/**
 * How to log, read leniently: a value that is not valid falls back to the default, so that the
 * start-up error `loadConfig` then throws (which names it) can itself be logged.
 */
export function logSettingsOf(env: Readonly<Record<string, string | undefined>>): {
  level: LogLevel;
  format: LogFormat;
} {
  const level = LOG_LEVELS.find((l) => l === env.LOG_LEVEL) ?? 'info';
  const format = LOG_FORMATS.find((f) => f === env.LOG_FORMAT) ?? 'json';
  return { level, format };
}
