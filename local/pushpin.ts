import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { MAX_MESSAGE_BYTES } from '../contract/windows.ts';
import { type Service, ServiceError, spawnService } from './processes.ts';
import { startProbeOrigin, waitForPushpin } from './pushpin-ready.ts';

/** One local Pushpin: where it keeps its files, where it listens, and what it proxies to. */
export interface PushpinOptions {
  /** Absolute directory for this Pushpin's config, routes, runtime sockets and logs. */
  dir: string;
  /** Where clients connect (127.0.0.1). */
  httpPort: number;
  /** The handler's HTTP publish endpoint (`push_in_http_port`): `POST /publish/`. */
  publishPort: number;
  originHost?: string | undefined;
  originPort: number;
  /**
   * More origins (same host), tried after `originPort` in this order: Pushpin sends each request
   * to the first target of its route and moves to the next only when the connection is refused
   * or times out (no load balancing). Each origin also gets a route of its own, `origin-<i>`
   * (0 being `originPort`), that a request takes with `Pushpin-Route: origin-<i>`.
   */
  fallbackOriginPorts?: readonly number[] | undefined;
  /** HS256 secret Pushpin signs `Grip-Sig` with; the origin verifies with the same one. */
  sigKey: string;
  sigIss?: string | undefined;
  /** Deliveries per second (one per subscriber per published message). */
  messageRate?: number | undefined;
  /** Deliveries that may wait for the rate limit before new ones are dropped. */
  messageHwm?: number | undefined;
  /**
   * 1 = warnings and errors (the default), 2 = info (three lines per proxied request), 3 = debug
   * (every ZeroMQ message). `startPushpin` takes `PUSHPIN_LOG_LEVEL` when this is not given.
   */
  logLevel?: number | undefined;
  /**
   * A route only a request with `Pushpin-Route: <id>` takes, to `127.0.0.1:<port>`: where
   * `startPushpin` runs its readiness probe.
   */
  probeRoute?: { id: string; port: number } | undefined;
  /** Pushpin's `internal.conf`; the default depends on the version (see `pushpinConfig`). */
  internalConf?: string | undefined;
}

export interface PushpinVersion {
  major: number;
  minor: number;
  patch: number;
}

/** The two files a Pushpin needs, as text. */
export interface PushpinFiles {
  config: string;
  routes: string;
}

/** A running Pushpin. */
export interface PushpinService extends Service {
  publishUrl: string;
  version: PushpinVersion;
  configFile: string;
}

// A leaderboard of 10,000 viewers turns one published update into 10,000 deliveries, and the
// handler rate-limits deliveries, not publishes. Pushpin's defaults (2,500/s, 25,000 queued)
// would take 4 s to reach the last viewer and drop the third update of a burst. These let one
// update reach 10,000 viewers in about 0.2 s and queue a few seconds of bursts, so the limit we
// measure is the machine, not the config.
const DEFAULT_MESSAGE_RATE = 50_000;
const DEFAULT_MESSAGE_HWM = 250_000;

/**
 * At level 2 Pushpin logs three lines per proxied request (zurl in, zurl out, proxy), which its
 * runner relays through a pipe to whoever started it: proxying measured about 40% faster at 1.
 */
export const DEFAULT_PUSHPIN_LOG_LEVEL = 1;
const MAX_LOG_LEVEL = 5;

// Unix socket paths are limited to 104 (macOS) or 108 (Linux) bytes including the final NUL, and
// the longest socket name Pushpin puts in its rundir is about 28 bytes ("pushpin-condure-out-stream").
const MAX_SOCKET_PATH = 103;
const LONGEST_SOCKET_NAME = 'pushpin-condure-out-stream-';

/** Reads `pushpin --version` output ("pushpin 1.36.0"). */
export function parsePushpinVersion(output: string): PushpinVersion {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (match === null) {
    throw new ServiceError(`Cannot read a Pushpin version from ${JSON.stringify(output.trim())}.`);
  }
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

/**
 * `PUSHPIN_LOG_LEVEL` from an environment, or undefined when it is unset or empty; a
 * ServiceError when it is not a level.
 */
export function pushpinLogLevelFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.PUSHPIN_LOG_LEVEL;
  if (raw === undefined || raw === '') return undefined;
  const level = Number(raw);
  if (!/^\d+$/.test(raw) || level > MAX_LOG_LEVEL) {
    throw new ServiceError(
      `PUSHPIN_LOG_LEVEL=${raw} is not a Pushpin log level: use 0 to ${MAX_LOG_LEVEL} (1 warnings, the default; 2 a line per request; 3 debug).`,
    );
  }
  return level;
}

/** Pushpin 1.40 merged condure and zurl into `connmgr` and renamed its services. */
export function hasConnmgr(version: PushpinVersion): boolean {
  return version.major > 1 || (version.major === 1 && version.minor >= 40);
}

/**
 * The `pushpin.conf` and `routes` texts for one Pushpin. Pure: the same options and version give
 * the same texts. Every socket Pushpin opens is either one of the two configured TCP ports on
 * 127.0.0.1 or a Unix socket inside `dir`, so several Pushpins can run side by side.
 */
export function pushpinConfig(options: PushpinOptions, version: PushpinVersion): PushpinFiles {
  checkPushpinOptions(options);
  const { dir, httpPort, publishPort, originPort } = options;
  const originHost = options.originHost ?? '127.0.0.1';
  const rundir = join(dir, 'run');
  const connmgr = hasConnmgr(version);
  const internalConf =
    options.internalConf ?? (connmgr ? '{libdir}/internal.conf' : '/usr/lib/pushpin/internal.conf');
  const origins = [originPort, ...(options.fallbackOriginPorts ?? [])].map(
    (port) => `${originHost}:${port}`,
  );
  const pushIn = connmgr ? 'push_in_http_' : 'push_in_';

  const config = [
    '# Written by local/pushpin.ts for one local Pushpin; rewritten on every start.',
    `# Pushpin ${version.major}.${version.minor}.${version.patch}.`,
    '[global]',
    `include=${internalConf}`,
    `rundir=${rundir}`,
    'ipc_prefix=pushpin-',
    'port_offset=0',
    'stats_connection_ttl=120',
    '',
    '[runner]',
    // Pushpin < 1.40 as packaged by Debian expects a system-wide zurl daemon; run our own instead.
    `services=${connmgr ? 'connmgr,proxy,handler' : 'condure,zurl,pushpin-proxy,pushpin-handler'}`,
    `http_port=127.0.0.1:${httpPort}`,
    `logdir=${join(dir, 'log')}`,
    `log_level=${options.logLevel ?? DEFAULT_PUSHPIN_LOG_LEVEL}`,
    // A request's head (request line and headers) must fit this buffer, its whole URI
    // (http://host:port/path?query) condure's fixed 4096 bytes (URI_SIZE_MAX, in Pushpin's
    // connmgr too) and its headers number 64 at most: past any of them, condure closes the
    // connection without an answer (test/pushpin.test.ts). Two buffers per connection: bigger
    // ones cost every held viewer.
    'client_buffer_size=8192',
    'client_maxconn=50000',
    '',
    '[proxy]',
    // internal.conf points these at /var/run/zurl (Debian's system zurl); ours lives in rundir.
    ...(connmgr
      ? []
      : [
          'zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in',
          'zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream',
          'zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out',
        ]),
    `routesfile=${join(dir, 'routes')}`,
    'debug=false',
    'auto_cross_origin=false',
    'accept_x_forwarded_protocol=false',
    'set_x_forwarded_protocol=proto-only',
    // Replace whatever X-Forwarded-For a client sent with the address Pushpin saw: the origin
    // trusts this header from loopback and rate-limits the public +1 by it.
    'x_forwarded_for=truncate:0,append',
    'x_forwarded_for_trusted=',
    'orig_headers_need_mark=',
    // Viceroy hands requests over with `Pushpin-Route: origin`.
    'accept_pushpin_route=true',
    'log_from=false',
    'log_user_agent=false',
    `sig_iss=${options.sigIss ?? 'pushpin'}`,
    `sig_key=${sigKeyValue(options.sigKey)}`,
    'upstream_key=',
    'updates_check=off',
    'organization_name=',
    '',
    '[handler]',
    // Pushpin's defaults bind fixed TCP ports 5560, 5562 and 5563; we publish over HTTP only.
    'push_in_spec=ipc://{rundir}/{ipc_prefix}push-in',
    'push_in_sub_specs=ipc://{rundir}/{ipc_prefix}push-in-sub',
    'push_in_sub_connect=false',
    'push_in_http_addr=127.0.0.1',
    `push_in_http_port=${publishPort}`,
    // Pushpin < 1.40 reads these without `_http` (Debian's stock pushpin.conf has the new names,
    // which its handler ignores).
    `${pushIn}max_headers_size=10000`,
    // Fanout refuses a published message over 64 KiB; so does this Pushpin (with a 400), so that
    // a message that would fail in production fails here too, as with the Fastly CLI's local
    // Pushpin.
    `${pushIn}max_body_size=${MAX_MESSAGE_BYTES}`,
    'stats_spec=ipc://{rundir}/{ipc_prefix}stats',
    'command_spec=ipc://{rundir}/{ipc_prefix}command',
    `message_rate=${options.messageRate ?? DEFAULT_MESSAGE_RATE}`,
    `message_hwm=${options.messageHwm ?? DEFAULT_MESSAGE_HWM}`,
    'message_wait=5000',
    'id_cache_ttl=60',
    'connection_subscription_max=20',
    'subscription_linger=60',
    'stats_subscription_ttl=60',
    'stats_report_interval=10',
    'stats_format=tnetstring',
    '',
  ].join('\n');

  const routes = [
    ...(origins.length === 1
      ? ['# Everything goes to the origin.']
      : [
          '# Everything goes to the first origin that accepts the connection, in this order.',
          '# Targets are separated by spaces (`host:port,prop` is one target with a property).',
        ]),
    `* ${origins.join(' ')}`,
    '# Requests handed over by Viceroy carry `Pushpin-Route: origin`.',
    `id=origin ${origins.map((origin) => `${origin},over_http`).join(' ')}`,
    ...(origins.length === 1
      ? []
      : [
          '# One origin only, for a request that says which: `Pushpin-Route: origin-<i>`.',
          ...origins.map((origin, i) => `id=origin-${i} ${origin}`),
        ]),
    ...(options.probeRoute === undefined
      ? []
      : [
          '# The start-up readiness probe (local/pushpin-ready.ts); its id is random.',
          `id=${options.probeRoute.id} 127.0.0.1:${options.probeRoute.port}`,
        ]),
    '',
  ].join('\n');

  return { config, routes };
}

// Refuses options that would give a config Pushpin starts with but that does not work.
function checkPushpinOptions(options: PushpinOptions): void {
  const { dir, httpPort, publishPort, originPort, logLevel, probeRoute } = options;
  const originHost = options.originHost ?? '127.0.0.1';
  if (!isAbsolute(dir)) throw new ServiceError(`Pushpin dir must be absolute, got ${dir}.`);
  const probePort = probeRoute === undefined ? {} : { probePort: probeRoute.port };
  const fallbacks = Object.fromEntries(
    (options.fallbackOriginPorts ?? []).map((port, i) => [`fallbackOriginPorts[${i}]`, port]),
  );
  checkPorts({ httpPort, publishPort, originPort, ...probePort, ...fallbacks });
  const originPorts = [originPort, ...(options.fallbackOriginPorts ?? [])];
  if (new Set(originPorts).size !== originPorts.length) {
    throw new ServiceError(`Pushpin origin ports repeat: ${originPorts.join(', ')}.`);
  }
  if (httpPort === publishPort) {
    throw new ServiceError(`Pushpin httpPort and publishPort are both ${httpPort}.`);
  }
  if (!/^[A-Za-z0-9.-]+$/.test(originHost)) {
    throw new ServiceError(`Pushpin originHost must be a host name or IP, got ${originHost}.`);
  }
  if (options.sigKey === '') throw new ServiceError('Pushpin sigKey is empty.');
  if (logLevel !== undefined && !(Number.isInteger(logLevel) && logLevel >= 0)) {
    throw new ServiceError(`Pushpin logLevel must be a whole number from 0, got ${logLevel}.`);
  }
  if (probeRoute !== undefined && !/^[A-Za-z0-9_-]+$/.test(probeRoute.id)) {
    throw new ServiceError(
      `Pushpin probeRoute id must be letters, digits, - or _, got ${probeRoute.id}.`,
    );
  }
  if (Buffer.byteLength(join(dir, 'run', LONGEST_SOCKET_NAME)) > MAX_SOCKET_PATH) {
    throw new ServiceError(
      `Pushpin dir ${dir} is too long for Unix socket paths (about ${MAX_SOCKET_PATH - LONGEST_SOCKET_NAME.length - 5} bytes at most): use a shorter one, e.g. under the OS temp dir.`,
    );
  }
}

function checkPorts(ports: Record<string, number>): void {
  for (const [name, port] of Object.entries(ports)) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new ServiceError(`Pushpin ${name} must be a TCP port, got ${port}.`);
    }
  }
}

// Pushpin reads its config with Qt's INI parser, where commas, quotes and semicolons mean
// something; a key that is not plainly URL-safe goes in as base64, which Pushpin decodes.
function sigKeyValue(key: string): string {
  if (/^[A-Za-z0-9._~-]+$/.test(key) && !key.startsWith('base64')) return key;
  return `base64:${Buffer.from(key, 'utf8').toString('base64')}`;
}

export const PUSHPIN_INSTALL_HINT =
  'Install Pushpin: `apt-get install -y pushpin` (Debian/Ubuntu) or `brew install pushpin` (macOS).';

/** The installed Pushpin's version; a ServiceError that says how to install it when it is missing. */
export function detectPushpin(bin = 'pushpin'): Promise<PushpinVersion> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['--version'], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error !== null) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new ServiceError(
            missing
              ? `Pushpin is not installed (no \`${bin}\` on PATH). ${PUSHPIN_INSTALL_HINT}`
              : `\`${bin} --version\` failed: ${error.message} ${stderr}`.trim(),
          ),
        );
        return;
      }
      try {
        resolve(parsePushpinVersion(`${stdout}${stderr}`));
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}

export interface StartPushpinOptions extends PushpinOptions {
  bin?: string | undefined;
  onLine?: ((line: string) => void) | undefined;
  timeoutMs?: number | undefined;
}

/**
 * Writes this Pushpin's config into `options.dir`, starts it, and resolves once it is ready: a
 * stream held through its client port receives a message published to its publish endpoint
 * (local/pushpin-ready.ts). Its log level is `options.logLevel`, else `PUSHPIN_LOG_LEVEL`, else 1.
 */
export async function startPushpin(options: StartPushpinOptions): Promise<PushpinService> {
  const bin = options.bin ?? 'pushpin';
  const version = await detectPushpin(bin);
  const internalConf =
    options.internalConf ??
    (!hasConnmgr(version) && !existsSync('/usr/lib/pushpin/internal.conf')
      ? '{libdir}/internal.conf'
      : undefined);
  const logLevel =
    options.logLevel ?? pushpinLogLevelFromEnv(process.env) ?? DEFAULT_PUSHPIN_LOG_LEVEL;
  const probe = await startProbeOrigin();
  let service: Service | undefined;
  try {
    const probeRoute = { id: probe.id, port: probe.port };
    const files = pushpinConfig({ ...options, internalConf, logLevel, probeRoute }, version);
    const configFile = await writePushpinFiles(options.dir, files);
    const url = `http://127.0.0.1:${options.httpPort}/`;
    const publishUrl = `http://127.0.0.1:${options.publishPort}/`;
    service = spawnService({
      name: 'pushpin',
      command: bin,
      args: ['--config', configFile, '--merge-output'],
      url,
      onLine: options.onLine,
    });
    await waitForPushpin({
      service,
      url,
      publishUrl,
      probe,
      timeoutMs: options.timeoutMs ?? 30_000,
      whereToLook: `Its config: ${configFile}. It logs at log_level=${logLevel}; PUSHPIN_LOG_LEVEL=2 logs every request, 3 every internal message.`,
    });
    return { ...service, publishUrl, version, configFile };
  } catch (error) {
    await service?.stop();
    throw error;
  } finally {
    await probe.close();
  }
}

// Writes the config and routes into dir, with an empty rundir and a logdir; gives the config's path.
async function writePushpinFiles(dir: string, files: PushpinFiles): Promise<string> {
  const rundir = join(dir, 'run');
  // Sockets and pid files of a Pushpin that was killed would confuse the new one.
  await rm(rundir, { recursive: true, force: true });
  await mkdir(rundir, { recursive: true });
  await mkdir(join(dir, 'log'), { recursive: true });
  const configFile = join(dir, 'pushpin.conf');
  // The config holds the signing key.
  await writeFile(configFile, files.config, { mode: 0o600 });
  await writeFile(join(dir, 'routes'), files.routes);
  return configFile;
}
