import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { MAX_MESSAGE_BYTES } from '../contract/windows.ts';
import { type Service, ServiceError, spawnService, waitForHttp } from './processes.ts';

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
  /** HS256 secret Pushpin signs `Grip-Sig` with; the origin verifies with the same one. */
  sigKey: string;
  sigIss?: string | undefined;
  /** Deliveries per second (one per subscriber per published message). */
  messageRate?: number | undefined;
  /** Deliveries that may wait for the rate limit before new ones are dropped. */
  messageHwm?: number | undefined;
  /** 2 = info, 3 = debug (every ZeroMQ message). */
  logLevel?: number | undefined;
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
  const origin = `${originHost}:${originPort}`;

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
    `log_level=${options.logLevel ?? 2}`,
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
    'push_in_http_max_headers_size=10000',
    // Fanout refuses a published message over 64 KiB; so does this Pushpin (with a 400), so that
    // a message that would fail in production fails here too, as with the Fastly CLI's local
    // Pushpin. Pushpin 1.36 reads the cap as `push_in_max_body_size` (its stock config's
    // `push_in_http_max_body_size` is ignored, leaving 1,000,000); later versions read the other.
    `push_in_http_max_body_size=${MAX_MESSAGE_BYTES}`,
    `push_in_max_body_size=${MAX_MESSAGE_BYTES}`,
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
    '# Everything goes to the origin.',
    `* ${origin}`,
    '# Requests handed over by Viceroy carry `Pushpin-Route: origin`.',
    `id=origin ${origin},over_http`,
    '',
  ].join('\n');

  return { config, routes };
}

// Refuses options that would give a config Pushpin starts with but that does not work.
function checkPushpinOptions(options: PushpinOptions): void {
  const { dir, httpPort, publishPort, originPort } = options;
  const originHost = options.originHost ?? '127.0.0.1';
  if (!isAbsolute(dir)) throw new ServiceError(`Pushpin dir must be absolute, got ${dir}.`);
  for (const [name, port] of Object.entries({ httpPort, publishPort, originPort })) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new ServiceError(`Pushpin ${name} must be a TCP port, got ${port}.`);
    }
  }
  if (httpPort === publishPort) {
    throw new ServiceError(`Pushpin httpPort and publishPort are both ${httpPort}.`);
  }
  if (!/^[A-Za-z0-9.-]+$/.test(originHost)) {
    throw new ServiceError(`Pushpin originHost must be a host name or IP, got ${originHost}.`);
  }
  if (options.sigKey === '') throw new ServiceError('Pushpin sigKey is empty.');
  if (Buffer.byteLength(join(dir, 'run', LONGEST_SOCKET_NAME)) > MAX_SOCKET_PATH) {
    throw new ServiceError(
      `Pushpin dir ${dir} is too long for Unix socket paths (about ${MAX_SOCKET_PATH - LONGEST_SOCKET_NAME.length - 5} bytes at most): use a shorter one, e.g. under the OS temp dir.`,
    );
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
 * Writes this Pushpin's config into `options.dir`, starts it, and resolves once both its client
 * port and its publish port answer HTTP.
 */
export async function startPushpin(options: StartPushpinOptions): Promise<PushpinService> {
  const bin = options.bin ?? 'pushpin';
  const version = await detectPushpin(bin);
  const internalConf =
    options.internalConf ??
    (!hasConnmgr(version) && !existsSync('/usr/lib/pushpin/internal.conf')
      ? '{libdir}/internal.conf'
      : undefined);
  const files = pushpinConfig({ ...options, internalConf }, version);
  const rundir = join(options.dir, 'run');
  // Sockets and pid files of a Pushpin that was killed would confuse the new one.
  await rm(rundir, { recursive: true, force: true });
  await mkdir(rundir, { recursive: true });
  await mkdir(join(options.dir, 'log'), { recursive: true });
  const configFile = join(options.dir, 'pushpin.conf');
  // The config holds the signing key.
  await writeFile(configFile, files.config, { mode: 0o600 });
  await writeFile(join(options.dir, 'routes'), files.routes);

  const url = `http://127.0.0.1:${options.httpPort}/`;
  const publishUrl = `http://127.0.0.1:${options.publishPort}/`;
  const service = spawnService({
    name: 'pushpin',
    command: bin,
    args: ['--config', configFile, '--merge-output'],
    url,
    onLine: options.onLine,
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    await waitForHttp(url, { service, timeoutMs });
    await waitForHttp(publishUrl, { service, timeoutMs });
    await settled(service, hasConnmgr(version) ? 3 : 4);
  } catch (error) {
    await service.stop();
    throw error;
  }
  return { ...service, publishUrl, version, configFile };
}

// Pushpin's programs find each other over ZeroMQ, which retries a failed connect every 100 ms.
// In the first moments after they start, a held request can fail ("Accept service unavailable")
// or its response can be published before anyone subscribed, and hang. Wait until each program
// has logged "started", then a few reconnect intervals. A Pushpin that logs differently only
// costs the wait.
async function settled(service: Service, programs: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  const started = () => service.logs().filter((line) => /\] started$/.test(line)).length;
  while (started() < programs && Date.now() < deadline && service.exit() === undefined) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
}
