import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import {
  describeExit,
  formatLogs,
  freePort,
  portInUse,
  type Service,
  ServiceError,
  type ServiceExit,
  spawnService,
} from './processes.ts';

// Private Redis servers for the local stack and the tests: Debian's `redis-server` on a free
// loopback port, in a dir of its own, durable the way the Redis store needs it (every write
// fsynced to the append-only file before Redis answers), and a six-node Redis Cluster made of
// them. Everything they start is stopped by local/processes.ts on Ctrl-C and at exit.

export const REDIS_INSTALL_HINT =
  'Install Redis: `apt-get install -y redis-server` (Debian/Ubuntu; it brings redis-cli) or `brew install redis` (macOS).';

/** Slots of a Redis Cluster: every key hashes to one of them. */
export const CLUSTER_SLOTS = 16_384;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_NODE_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 5_000;

export interface RedisVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Reads `redis-server --version` output ("Redis server v=7.0.15 sha=..."). */
export function parseRedisVersion(output: string): RedisVersion {
  const match = /v=(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (match === null) {
    throw new ServiceError(`Could not read a Redis version from: ${output.trim() || '(nothing)'}`);
  }
  const [, major, minor, patch] = match;
  return { major: Number(major), minor: Number(minor), patch: Number(patch) };
}

const detected = new Map<string, Promise<RedisVersion>>();

/**
 * The installed `redis-server`'s version, once `redis-cli` is found too (the cluster is created
 * with it); a ServiceError that says how to install them when either is missing.
 */
export function detectRedis(bin = 'redis-server', cli = 'redis-cli'): Promise<RedisVersion> {
  const key = `${bin}\n${cli}`;
  let version = detected.get(key);
  if (version === undefined) {
    version = (async () => {
      const server = await versionOutput(bin);
      await versionOutput(cli);
      return parseRedisVersion(server);
    })();
    detected.set(key, version);
    // A failed detection is not remembered: the next call may follow an install.
    version.catch(() => detected.delete(key));
  }
  return version;
}

function versionOutput(bin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['--version'], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve(`${stdout}${stderr}`);
        return;
      }
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new ServiceError(
          missing
            ? `Redis is not installed (no \`${bin}\` on PATH). ${REDIS_INSTALL_HINT}`
            : `\`${bin} --version\` failed: ${error.message} ${stderr}`.trim(),
        ),
      );
    });
  });
}

/** One private redis-server's settings. */
export interface RedisConfigOptions {
  /** Where it listens, on 127.0.0.1. */
  port: number;
  /** Absolute directory of its append-only file (and, in a cluster, its nodes.conf). */
  dir: string;
  /** Cluster mode: its cluster bus port, and how long a node may be silent before it fails over. */
  cluster?: { busPort: number; nodeTimeoutMs: number } | undefined;
}

/** The `redis.conf` text of one private redis-server. Pure. */
export function redisConfig(options: RedisConfigOptions): string {
  const { port, dir, cluster } = options;
  checkPort('port', port);
  if (!isAbsolute(dir)) throw new ServiceError(`Redis dir must be absolute, got ${dir}.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f]/.test(dir)) {
    throw new ServiceError(
      `Redis dir must not hold control characters, got ${JSON.stringify(dir)}.`,
    );
  }
  if (cluster !== undefined) {
    checkPort('cluster busPort', cluster.busPort);
    if (cluster.busPort === port) {
      throw new ServiceError(`Redis port and cluster busPort are both ${port}.`);
    }
    if (!Number.isInteger(cluster.nodeTimeoutMs) || cluster.nodeTimeoutMs < 100) {
      throw new ServiceError(
        `Redis cluster nodeTimeoutMs must be a whole number of ms from 100, got ${cluster.nodeTimeoutMs}.`,
      );
    }
  }
  return [
    '# Written by local/redis.ts for one private redis-server; rewritten on every start.',
    'bind 127.0.0.1',
    'protected-mode yes',
    `port ${port}`,
    'daemonize no',
    `dir ${quoteConfig(dir)}`,
    // Log to stdout: local/processes.ts keeps the last lines for error messages.
    'logfile ""',
    'loglevel notice',
    // Durable: Redis answers a write only once the append-only file has been fsynced.
    'appendonly yes',
    'appendfsync always',
    // No RDB snapshots: the append-only file is the data.
    'save ""',
    // A replica syncs at once: Redis waits 5 s by default for more replicas to share the transfer.
    'repl-diskless-sync-delay 0',
    ...(cluster === undefined
      ? []
      : [
          'cluster-enabled yes',
          'cluster-config-file nodes.conf',
          `cluster-node-timeout ${cluster.nodeTimeoutMs}`,
          // Its own port, not port + 10000: a free port from the kernel may be above 55535.
          `cluster-port ${cluster.busPort}`,
        ]),
    '',
  ].join('\n');
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ServiceError(`Redis ${name} must be a TCP port, got ${port}.`);
  }
}

// redis.conf reads a double-quoted argument with backslash escapes.
function quoteConfig(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A reply as Redis sends it (RESP2); an error reply rejects instead. */
export type RedisReply = string | number | null | RedisReply[];

class ErrorReply {
  constructor(readonly message: string) {}
}

type Parsed = [RedisReply | ErrorReply, number] | undefined;

// One RESP2 reply from `at`, and where the next begins; undefined while it is incomplete.
function parseReply(buffer: Buffer, at: number): Parsed {
  const end = buffer.indexOf('\r\n', at);
  if (end === -1) return undefined;
  const line = buffer.toString('utf8', at + 1, end);
  const next = end + 2;
  switch (buffer[at]) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new ErrorReply(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString('utf8', next, next + length), next + length + 2];
    }
    case 0x2a:
      // *
      return parseArray(buffer, Number(line), next);
    default:
      throw new ServiceError(`Not a Redis reply: ${buffer.toString('utf8', at, end)}`);
  }
}

function parseArray(buffer: Buffer, count: number, at: number): Parsed {
  if (count < 0) return [null, at];
  const items: RedisReply[] = [];
  let next = at;
  for (let i = 0; i < count; i++) {
    const item = parseReply(buffer, next);
    if (item === undefined) return undefined;
    const [value, after] = item;
    items.push(value instanceof ErrorReply ? value.message : value);
    next = after;
  }
  return [items, next];
}

/**
 * Sends one command to the Redis on `127.0.0.1:port` over a connection of its own and gives the
 * reply. A ServiceError, naming the port and the command, when it does not answer within
 * `timeoutMs` or answers with an error. For set-up and checks, not for load.
 */
export function redisCommand(
  port: number,
  args: readonly string[],
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<RedisReply> {
  const what = `Redis on 127.0.0.1:${port} (${args.slice(0, 2).join(' ')})`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const fail = (why: string) => {
      socket.destroy();
      reject(new ServiceError(`${what}: ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    socket.on('error', (error) => fail(error.message));
    socket.on('close', () => fail('closed the connection without an answer'));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let parsed: Parsed;
      try {
        parsed = parseReply(received, 0);
      } catch (error) {
        fail(error instanceof Error ? error.message : String(error));
        return;
      }
      if (parsed === undefined) return;
      socket.removeAllListeners('close');
      socket.end();
      const [reply] = parsed;
      if (reply instanceof ErrorReply) reject(new ServiceError(`${what}: ${reply.message}`));
      else resolve(reply);
    });
    const encoded = args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('');
    socket.write(`*${args.length}\r\n${encoded}`);
  });
}

/** A private redis-server; it stays the same object (and URL) across `kill()` and `restart()`. */
export interface RedisServer extends Service {
  readonly kind: 'server';
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Its cluster bus port, when it is a cluster node. */
  readonly busPort: number | undefined;
  /** Where its config and append-only file are. */
  readonly dir: string;
  readonly configFile: string;
  /** Whether its process runs now. */
  running(): boolean;
  /** One command (see `redisCommand`), e.g. `command('SET', 'k', 'v')`. */
  command(...args: string[]): Promise<RedisReply>;
  /** SIGKILL, no grace: what a crash looks like. Settles when the process is gone. */
  kill(): Promise<ServiceExit>;
  /**
   * Starts it again on the same port and dir, so it loads its append-only file (and, in a
   * cluster, rejoins); stops it gracefully first when it runs. Resolves once it answers PING.
   */
  restart(): Promise<void>;
  /** Graceful stop for good (Redis fsyncs and exits on SIGTERM); removes a temporary dir. */
  stop(graceMs?: number): Promise<ServiceExit>;
}

export interface StartRedisOptions {
  /** Absolute dir for its config and data, created when missing, kept; default: a temporary one. */
  dir?: string | undefined;
  /** Default: a free port. */
  port?: number | undefined;
  /** Cluster mode (used by `startRedisCluster`); the bus port defaults to a free one. */
  cluster?: { busPort?: number | undefined; nodeTimeoutMs?: number | undefined } | undefined;
  /** Its name in logs and messages (default `redis`). */
  name?: string | undefined;
  /** The `redis-server` binary (default: the one on PATH). */
  bin?: string | undefined;
  /** The `redis-cli` binary, checked for with `redis-server` (default: the one on PATH). */
  cli?: string | undefined;
  /** Every line it writes (its log goes to stdout). */
  onLine?: ((line: string) => void) | undefined;
  /** How long it may take to answer PING, at each start (default 30 s; loading an AOF takes time). */
  timeoutMs?: number | undefined;
}

const KEEP_LINES = 200;

/**
 * Starts a private `redis-server` on 127.0.0.1 with its own `redis.conf` in its own dir
 * (`appendonly yes`, `appendfsync always`, no RDB snapshots) and resolves once it answers PING.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const bin = options.bin ?? 'redis-server';
  await detectRedis(bin, options.cli);
  const temporary = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'redis-')));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  if (temporary) process.once('exit', removeDir);
  const forget = async () => {
    if (!temporary) return;
    process.off('exit', removeDir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const port = options.port ?? (await freePort());
    const cluster =
      options.cluster === undefined
        ? undefined
        : {
            busPort: options.cluster.busPort ?? (await freePortOtherThan([port])),
            nodeTimeoutMs: options.cluster.nodeTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS,
          };
    const config = redisConfig({ port, dir, cluster });
    await mkdir(dir, { recursive: true });
    const configFile = join(dir, 'redis.conf');
    await writeFile(configFile, config);
    const runner = new RedisRunner({
      ...options,
      bin,
      port,
      busPort: cluster?.busPort,
      dir,
      configFile,
      forget,
    });
    await runner.launch();
    return runner.server();
  } catch (error) {
    await forget();
    throw error;
  }
}

interface RunnerSettings extends StartRedisOptions {
  bin: string;
  port: number;
  busPort: number | undefined;
  dir: string;
  configFile: string;
  forget: () => Promise<void>;
}

// Runs one redis-server process after another on the same port and dir.
class RedisRunner {
  private current: Service | undefined;
  private stopped = false;
  private readonly lines: string[] = [];
  private readonly name: string;
  private readonly url: string;

  constructor(private readonly settings: RunnerSettings) {
    this.name = settings.name ?? 'redis';
    this.url = `redis://127.0.0.1:${settings.port}`;
  }

  async launch(): Promise<void> {
    const { port, bin, configFile, dir } = this.settings;
    if (await portInUse(port)) {
      throw new ServiceError(
        `${this.name} cannot listen on 127.0.0.1:${port}: something else holds the port now.`,
      );
    }
    const service = spawnService({
      name: this.name,
      command: bin,
      args: [configFile],
      url: this.url,
      cwd: dir,
      onLine: (line) => {
        this.lines.push(line);
        if (this.lines.length > KEEP_LINES) this.lines.shift();
        this.settings.onLine?.(line);
      },
    });
    this.current = service;
    try {
      await this.waitForPong(service, this.settings.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } catch (error) {
      await service.stop();
      throw error;
    }
  }

  private async waitForPong(service: Service, timeoutMs: number): Promise<void> {
    const { port, configFile } = this.settings;
    const deadline = Date.now() + timeoutMs;
    let last = 'nothing';
    while (Date.now() < deadline) {
      const exit = service.exit();
      if (exit !== undefined) {
        throw new ServiceError(
          `${this.name} (port ${port}) exited (${describeExit(exit)}) before it answered PING. Its config: ${configFile}.\n${formatLogs(service)}`,
        );
      }
      try {
        const reply = await redisCommand(port, ['PING'], Math.min(2_000, timeoutMs));
        if (reply === 'PONG') return;
        last = String(reply);
      } catch (error) {
        // LOADING while it reads its append-only file; refused before it listens.
        last = error instanceof Error ? error.message : String(error);
      }
      await sleep(100);
    }
    throw new ServiceError(
      `${this.name} (127.0.0.1:${port}) did not answer PING within ${timeoutMs} ms (last: ${last}). Its config: ${configFile}.\n${formatLogs(service)}`,
    );
  }

  private process(): Service {
    if (this.current === undefined) throw new ServiceError(`${this.name} never started.`);
    return this.current;
  }

  server(): RedisServer {
    const runner = this;
    const { port, busPort, dir, configFile } = this.settings;
    return {
      kind: 'server',
      name: this.name,
      url: this.url,
      port,
      busPort,
      dir,
      configFile,
      get pid() {
        return runner.process().pid;
      },
      get exited() {
        return runner.process().exited;
      },
      exit: () => this.process().exit(),
      logs: () => [...this.lines],
      running: () => this.process().exit() === undefined,
      command: (...args) => redisCommand(port, args),
      kill: () => this.process().kill9(),
      kill9: () => this.process().kill9(),
      restart: () => this.restart(),
      stop: (graceMs) => this.stop(graceMs),
    };
  }

  private async restart(): Promise<void> {
    if (this.stopped) throw new ServiceError(`${this.name} was stopped for good: start a new one.`);
    const service = this.process();
    if (service.exit() === undefined) await service.stop();
    await this.launch();
  }

  private async stop(graceMs?: number): Promise<ServiceExit> {
    this.stopped = true;
    const exit = await this.process().stop(graceMs);
    await this.settings.forget();
    return exit;
  }
}

// A free port that is none of `taken` (ports the kernel hands out one after another can repeat
// once each is released).
async function freePortOtherThan(taken: readonly number[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.includes(port)) return port;
  }
}

async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await freePortOtherThan(ports));
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// Redis Cluster

/** One line of `CLUSTER NODES`: a node as another node (or itself) sees it. */
export interface ClusterNodeView {
  id: string;
  host: string;
  port: number;
  role: 'master' | 'replica';
  /** The master a replica replicates. */
  masterId: string | undefined;
  /** Marked failing (`fail`), or suspected by the node asked (`fail?`). */
  failing: boolean;
  /** The line is the node asked (`myself`). */
  myself: boolean;
  /** The slot ranges it serves, inclusive (masters only). */
  slots: [number, number][];
}

/** Reads `CLUSTER NODES` output. Pure. */
export function parseClusterNodes(text: string): ClusterNodeView[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [id = '', address = '', flagList = '', master = '-', , , , , ...slotFields] =
        line.split(' ');
      const flags = flagList.split(',');
      const hostPort = address.split('@')[0] ?? '';
      const colon = hostPort.lastIndexOf(':');
      const slots = slotFields
        // `[slot->-id]` and `[slot-<-id]` are slots migrating: not served yet.
        .filter((field) => !field.startsWith('['))
        .map((field): [number, number] => {
          const [from, to = from] = field.split('-');
          return [Number(from), Number(to)];
        });
      return {
        id,
        host: hostPort.slice(0, colon),
        port: Number(hostPort.slice(colon + 1)),
        role: flags.includes('slave') ? 'replica' : 'master',
        masterId: master === '-' ? undefined : master,
        failing: flags.includes('fail') || flags.includes('fail?'),
        myself: flags.includes('myself'),
        slots,
      };
    });
}

/** Reads `INFO` or `CLUSTER INFO` output (`key:value` lines). Pure. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

export interface StartRedisClusterOptions {
  /** Absolute dir for the nodes' dirs (`node-1` … `node-6`, which must not exist yet); default: a temporary one. */
  dir?: string | undefined;
  /**
   * `cluster-node-timeout`: how long a master may be unreachable before its replica takes over.
   * A failover takes about twice this (default 2,000 ms).
   */
  nodeTimeoutMs?: number | undefined;
  bin?: string | undefined;
  cli?: string | undefined;
  /** Every line a node writes, with the node's name (`redis-1` … `redis-6`). */
  onLine?: ((node: string, line: string) => void) | undefined;
  /** How long the whole cluster may take to start and settle (default 90 s). */
  timeoutMs?: number | undefined;
}

/** Six private redis-servers joined as a Redis Cluster of three masters with a replica each. */
export interface RedisCluster {
  readonly kind: 'cluster';
  /** The six nodes, `redis-1` … `redis-6`; their roles change with failovers (see `topology`). */
  readonly nodes: readonly RedisServer[];
  /** Every node's URL: the seed list a cluster client starts from. */
  readonly urls: readonly string[];
  /** `urls` joined with commas: what `REDIS_URL` holds for a cluster. */
  readonly url: string;
  readonly dir: string;
  /** `CLUSTER NODES` as a running node (the first, unless given) sees it. */
  topology(from?: RedisServer): Promise<ClusterNodeView[]>;
  /** The nodes that serve slots now, as the first running node sees it. */
  masters(): Promise<RedisServer[]>;
  /** The nodes that replicate a master now, as the first running node sees it. */
  replicas(): Promise<RedisServer[]>;
  /** `CLUSTER KEYSLOT key` */
  keySlot(key: string): Promise<number>;
  /** The node that serves `key`'s slot now, as the first running node sees it. */
  masterOf(key: string): Promise<RedisServer>;
  /** The node that serves `slot` now, as the first running node sees it. */
  masterOfSlot(slot: number): Promise<RedisServer>;
  /**
   * Waits until every running node says `cluster_state:ok`, all 16,384 slots are served, and they
   * agree which node serves which slots (and, with `replicasSynced`, every replica runs and is
   * in sync with its master).
   */
  waitForOk(options?: { timeoutMs?: number; replicasSynced?: boolean }): Promise<void>;
  /**
   * Waits until `key`'s slot is served by a node other than `from` (a master that was killed,
   * say), with the cluster ok as in `waitForOk`; gives the new master.
   */
  waitForFailover(key: string, from: RedisServer, timeoutMs?: number): Promise<RedisServer>;
  /** Stops every node; removes a temporary dir. */
  stop(): Promise<void>;
}

const CLUSTER_SIZE = 6;

/**
 * Starts six cluster-enabled redis-servers (AOF as `startRedis`, each in its own dir), joins them
 * with `redis-cli --cluster create … --cluster-replicas 1`, and resolves once the cluster is ok
 * on every node with every replica in sync.
 */
export async function startRedisCluster(
  options: StartRedisClusterOptions = {},
): Promise<RedisCluster> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 90_000;
  const cli = options.cli ?? 'redis-cli';
  await detectRedis(options.bin, cli);
  const temporary = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'redis-cluster-')));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  if (temporary) process.once('exit', removeDir);
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    if (temporary) {
      process.off('exit', removeDir);
      await rm(dir, { recursive: true, force: true });
    }
  };
  try {
    const ports = await freePorts(CLUSTER_SIZE * 2);
    const starts = Array.from({ length: CLUSTER_SIZE }, (_, i) => {
      const name = `redis-${i + 1}`;
      const { onLine } = options;
      return startRedis({
        dir: join(dir, `node-${i + 1}`),
        port: ports[i],
        cluster: { busPort: ports[CLUSTER_SIZE + i], nodeTimeoutMs: options.nodeTimeoutMs },
        name,
        bin: options.bin,
        cli,
        onLine: onLine === undefined ? undefined : (line) => onLine(name, line),
        timeoutMs,
      }).then((node) => nodes.push(node));
    });
    const results = await Promise.allSettled(starts);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    nodes.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    await createCluster(cli, nodes, timeoutMs);
    const cluster = clusterOf(nodes, dir, stop);
    await cluster.waitForOk({
      replicasSynced: true,
      timeoutMs: Math.max(10_000, timeoutMs - (Date.now() - started)),
    });
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

function createCluster(cli: string, nodes: readonly RedisServer[], timeoutMs: number) {
  const args = [
    '--cluster',
    'create',
    ...nodes.map((node) => `127.0.0.1:${node.port}`),
    '--cluster-replicas',
    '1',
    '--cluster-yes',
  ];
  return new Promise<void>((resolve, reject) => {
    execFile(cli, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error === null) {
        resolve();
        return;
      }
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the colours redis-cli prints
      const output = `${stdout}${stderr}`.replace(/\u001b\[[0-9;]*m/g, '').trim();
      const tail = output.split('\n').slice(-15).join('\n  | ');
      reject(
        new ServiceError(
          `\`${cli} ${args.join(' ')}\` failed (${error.message.split('\n')[0]}):\n  | ${tail}`,
        ),
      );
    });
  });
}

function clusterOf(
  nodes: readonly RedisServer[],
  dir: string,
  stop: () => Promise<void>,
): RedisCluster {
  const urls = nodes.map((node) => node.url);
  const firstRunning = () => {
    const node = nodes.find((n) => n.running());
    if (node === undefined) throw new ServiceError('No node of the Redis Cluster runs.');
    return node;
  };
  const byPort = (port: number) => {
    const node = nodes.find((n) => n.port === port);
    if (node === undefined) throw new ServiceError(`No node of this cluster has port ${port}.`);
    return node;
  };
  const topology = async (from = firstRunning()) =>
    parseClusterNodes(String(await from.command('CLUSTER', 'NODES')));
  const keySlot = async (key: string) =>
    Number(await firstRunning().command('CLUSTER', 'KEYSLOT', key));
  const masterOfSlot = async (slot: number) => {
    const owner = ownerOf(await topology(), slot);
    if (owner === undefined) throw new ServiceError(`No master serves slot ${slot} now.`);
    return byPort(owner.port);
  };
  const cluster: RedisCluster = {
    kind: 'cluster',
    nodes,
    urls,
    url: urls.join(','),
    dir,
    topology,
    masters: async () =>
      (await topology())
        .filter((n) => n.role === 'master' && !n.failing && n.slots.length > 0)
        .map((n) => byPort(n.port)),
    replicas: async () =>
      (await topology()).filter((n) => n.role === 'replica').map((n) => byPort(n.port)),
    keySlot,
    masterOf: async (key) => masterOfSlot(await keySlot(key)),
    masterOfSlot,
    waitForOk: async ({ timeoutMs = DEFAULT_TIMEOUT_MS, replicasSynced = false } = {}) => {
      const deadline = Date.now() + timeoutMs;
      let problem = await clusterProblem(nodes, replicasSynced);
      while (problem !== undefined && Date.now() < deadline) {
        await sleep(200);
        problem = await clusterProblem(nodes, replicasSynced);
      }
      if (problem !== undefined) {
        throw new ServiceError(
          `The Redis Cluster was not ok within ${timeoutMs} ms: ${problem}.\n${clusterLogs(nodes)}`,
        );
      }
    },
    waitForFailover: async (key, from, timeoutMs = DEFAULT_TIMEOUT_MS) => {
      const slot = await keySlot(key);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let problem = await clusterProblem(nodes, false);
        if (problem === undefined) {
          const master = await masterOfSlot(slot);
          if (master !== from) return master;
          problem = `${from.name} (port ${from.port}) still serves it`;
        }
        if (Date.now() >= deadline) {
          throw new ServiceError(
            `No failover of slot ${slot} (key ${key}) away from ${from.name} within ${timeoutMs} ms: ${problem}.\n${clusterLogs(nodes)}`,
          );
        }
        await sleep(200);
      }
    },
    stop,
  };
  return cluster;
}

// The master serving `slot` in one node's view, unless it is failing.
function ownerOf(view: readonly ClusterNodeView[], slot: number): ClusterNodeView | undefined {
  return view.find(
    (node) =>
      node.role === 'master' &&
      !node.failing &&
      node.slots.some(([from, to]) => slot >= from && slot <= to),
  );
}

// Which node serves which slots in one view, as comparable text ("0-5460@7001 5461-10922@7002").
function slotOwners(view: readonly ClusterNodeView[]): string {
  return view
    .filter((node) => node.role === 'master' && !node.failing)
    .flatMap((node) => node.slots.map(([from, to]) => ({ from, to, port: node.port })))
    .sort((a, b) => a.from - b.from)
    .map(({ from, to, port }) => `${from}-${to}@${port}`)
    .join(' ');
}

// What keeps the cluster from being ok, in words; undefined when nothing does.
async function clusterProblem(
  nodes: readonly RedisServer[],
  replicasSynced: boolean,
): Promise<string | undefined> {
  const running = nodes.filter((node) => node.running());
  if (running.length === 0) return 'no node runs';
  try {
    let agreed: string | undefined;
    for (const node of running) {
      const view = await okView(node);
      if (typeof view === 'string') return view;
      const owners = slotOwners(view);
      agreed ??= owners;
      if (owners !== agreed) {
        return `the nodes do not agree yet on who serves which slots (${agreed} | ${owners})`;
      }
      const stale = view.find(
        (n) => n.role === 'master' && !n.failing && n.slots.length > 0 && !isRunning(nodes, n),
      );
      if (stale !== undefined) {
        return `${node.name} still counts on port ${stale.port}, which does not run, as a master`;
      }
      const replicas = replicasSynced ? await replicaProblem(node, view, nodes) : undefined;
      if (replicas !== undefined) return replicas;
    }
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

// A node's view of the cluster once it says the cluster is ok and serves every slot; else why not.
async function okView(node: RedisServer): Promise<ClusterNodeView[] | string> {
  const info = parseInfo(String(await node.command('CLUSTER', 'INFO')));
  const state = info.get('cluster_state');
  const slotsOk = info.get('cluster_slots_ok');
  if (state !== 'ok') return `${node.name} (port ${node.port}) says cluster_state:${state}`;
  if (slotsOk !== String(CLUSTER_SLOTS)) {
    return `${node.name} (port ${node.port}) has ${slotsOk} of ${CLUSTER_SLOTS} slots ok`;
  }
  return parseClusterNodes(String(await node.command('CLUSTER', 'NODES')));
}

function isRunning(nodes: readonly RedisServer[], view: ClusterNodeView): boolean {
  return nodes.some((node) => node.port === view.port && node.running());
}

// With every node of the cluster running: half of them are replicas in sync with a master.
async function replicaProblem(
  node: RedisServer,
  view: readonly ClusterNodeView[],
  nodes: readonly RedisServer[],
): Promise<string | undefined> {
  const masters = view.filter((n) => n.role === 'master' && n.slots.length > 0);
  const replicas = view.filter((n) => n.role === 'replica' && !n.failing);
  const expected = nodes.length / 2;
  if (masters.length !== expected || replicas.length !== expected) {
    return `${node.name} sees ${masters.length} masters and ${replicas.length} replicas, not ${expected} of each`;
  }
  const self = view.find((n) => n.myself);
  if (self?.role !== 'replica') return undefined;
  const replication = parseInfo(String(await node.command('INFO', 'replication')));
  const link = replication.get('master_link_status');
  return link === 'up' ? undefined : `${node.name} (replica) has master_link_status:${link}`;
}

function clusterLogs(nodes: readonly RedisServer[]): string {
  return nodes.map((node) => formatLogs(node, 8)).join('\n');
}
