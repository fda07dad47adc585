import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { ensureSecret } from '../origin/secrets.ts';
import { ROOT_DIR } from './origin.ts';
import { formatLogs, portInUse, type Service, ServiceError, stopAllServices } from './processes.ts';
import { PUSHPIN_INSTALL_HINT, pushpinLogLevelFromEnv } from './pushpin.ts';
import { REDIS_INSTALL_HINT } from './redis.ts';
import { type Stack, startStack } from './stack.ts';
import { buildEdgeWasm, EDGE_WASM, findViceroy, VICEROY_INSTALL_HINT } from './viceroy.ts';
import { startVite } from './vite.ts';

// `npm start`: the whole product on this machine, behind one URL. `npm run dev` (`--dev`) adds
// Vite's dev server with hot reload in front. `--redis` keeps boards in a private redis-server
// (REDIS_URL: in that Redis instead), `--origins N` runs N origins behind Pushpin. Ctrl-C stops
// everything this started.

const MAX_ORIGINS = 8;

/** Where the origins keep boards. */
type StoreChoice =
  | { kind: 'embedded' }
  /** A Redis that runs already (`REDIS_URL`). */
  | { kind: 'redis-url'; url: string }
  /** A private redis-server this starts (`--redis`), keeping its files in `dir`. */
  | { kind: 'private-redis'; dir: string };

/** What `npm start` runs, read once from its arguments and the environment. */
interface StartConfig {
  dev: boolean;
  /**
   * `PUSHPIN_LOG_LEVEL`; `--verbose` makes it 2 (a line per request) when it is not set. Pushpin
   * writes nothing but warnings and errors at the default, 1.
   */
  pushpinLogLevel: number | undefined;
  ports: { origin: number; pushpin: number; publish: number; edge: number; vite: number };
  /** How many origins (`--origins N`); they listen on `PORT`, `PORT + 1`… */
  origins: number;
  store: StoreChoice;
  dataFile: string;
  /** `ADMIN_TOKEN`, when set: it wins over the token kept beside the data. */
  adminToken: string | undefined;
  /** The `viceroy` binary, when there is one: then the edge runs too. */
  viceroy: string | undefined;
}

function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): StartConfig {
  const args = new Set(argv);
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65_535) {
      throw new ServiceError(`${name}=${raw} is not a TCP port.`);
    }
    return value;
  };
  const dataFile = resolve(ROOT_DIR, env.DATA_FILE || join('data', 'leaderboard.json'));
  const store = storeChoice(args.has('--redis'), env, dataFile);
  const origins = originsArg(argv);
  if (origins > 1 && store.kind === 'embedded') {
    throw new ServiceError(
      `--origins ${origins} needs Redis (\`npm start -- --redis --origins ${origins}\`, or REDIS_URL): with the embedded store each origin would keep boards of its own.`,
    );
  }
  const originPort = port('PORT', 3000);
  if (originPort + origins - 1 > 65_535) {
    throw new ServiceError(`PORT=${originPort} leaves no room for ${origins} origins.`);
  }
  return {
    dev: args.has('--dev'),
    pushpinLogLevel: pushpinLogLevelFromEnv(env) ?? (args.has('--verbose') ? 2 : undefined),
    ports: {
      origin: originPort,
      pushpin: port('PUSHPIN_PORT', 7999),
      publish: port('PUSHPIN_PUBLISH_PORT', 5561),
      edge: port('EDGE_PORT', 7676),
      vite: port('VITE_PORT', 5173),
    },
    origins,
    store,
    dataFile,
    adminToken: env.ADMIN_TOKEN || undefined,
    viceroy: findViceroy(env.PATH),
  };
}

// `--origins N` or `--origins=N`; 1 without it.
function originsArg(argv: readonly string[]): number {
  const at = argv.findIndex((arg) => arg === '--origins' || arg.startsWith('--origins='));
  if (at === -1) return 1;
  const arg = argv[at] ?? '';
  const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[at + 1];
  const count = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || count < 1 || count > MAX_ORIGINS) {
    throw new ServiceError(
      `--origins takes a number from 1 to ${MAX_ORIGINS}, got ${raw ?? 'nothing'}: \`npm start -- --redis --origins 2\`.`,
    );
  }
  return count;
}

// REDIS_URL wins: a Redis that runs already. Else `--redis` starts one beside the data file.
function storeChoice(redis: boolean, env: NodeJS.ProcessEnv, dataFile: string): StoreChoice {
  if (env.REDIS_URL) return { kind: 'redis-url', url: env.REDIS_URL };
  if (redis) return { kind: 'private-redis', dir: join(dirname(dataFile), 'redis') };
  return { kind: 'embedded' };
}

function originPorts(config: StartConfig): number[] {
  return Array.from({ length: config.origins }, (_, i) => config.ports.origin + i);
}

async function checkPortsFree(config: StartConfig): Promise<void> {
  const { ports } = config;
  const needed = [
    ...originPorts(config).map((port) => ({ port, variable: 'PORT' })),
    { port: ports.pushpin, variable: 'PUSHPIN_PORT' },
    { port: ports.publish, variable: 'PUSHPIN_PUBLISH_PORT' },
    ...(config.viceroy ? [{ port: ports.edge, variable: 'EDGE_PORT' }] : []),
    ...(config.dev ? [{ port: ports.vite, variable: 'VITE_PORT' }] : []),
  ];
  for (const { port, variable } of needed) {
    if (await portInUse(port)) {
      throw new ServiceError(
        `Port ${port} is taken (another \`npm start\`?). Stop that, or choose another: ${variable}=<port> npm start.`,
      );
    }
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function run(command: string, commandArgs: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, commandArgs, { cwd: ROOT_DIR, stdio: 'inherit' });
    child.once('error', fail);
    child.once('exit', (code, signal) =>
      code === 0
        ? done()
        : fail(
            new ServiceError(`\`${command} ${commandArgs.join(' ')}\` failed (${signal ?? code}).`),
          ),
    );
  });
}

// Installs a Debian package when its commands are missing and this runs as root on Debian; else
// says how to install it.
async function ensureInstalled(
  what: string,
  commands: readonly string[],
  debianPackage: string,
  hint: string,
): Promise<void> {
  if (commands.every(onPath)) return;
  const root = process.getuid?.() === 0;
  if (root && existsSync('/etc/debian_version') && onPath('apt-get')) {
    console.log(`${what} is missing: installing it with apt-get (root on Debian)…`);
    await run('apt-get', ['update']);
    await run('apt-get', ['install', '-y', debianPackage]);
    return;
  }
  throw new ServiceError(`${what} is not installed. ${hint}`);
}

async function ensurePushpin(): Promise<void> {
  await ensureInstalled('Pushpin', ['pushpin'], 'pushpin', PUSHPIN_INSTALL_HINT);
}

// Debian's redis-server brings redis-cli (redis-tools), which creates a cluster.
async function ensureRedis(config: StartConfig): Promise<void> {
  if (config.store.kind !== 'private-redis') return;
  await ensureInstalled('Redis', ['redis-server', 'redis-cli'], 'redis-server', REDIS_INSTALL_HINT);
}

/** What the services need built: the web app (Vite serves it itself in dev), the edge's wasm. */
async function build(config: StartConfig): Promise<void> {
  if (!config.dev) {
    console.log('Building the web app (npm run build:web)…');
    await run('npm', ['run', 'build:web']);
  }
  if (config.viceroy) {
    console.log('Building the edge wasm…');
    await buildEdgeWasm(EDGE_WASM);
  }
}

/** Prints a line a service writes, prefixed with its name. */
function print(service: string, line: string): void {
  console.log(`[${service}] ${line}`);
}

/** Starts the stack with the secrets kept beside the data, so a restart keeps the same ones. */
async function startLocalStack(config: StartConfig): Promise<Stack> {
  const dataDir = dirname(config.dataFile);
  const gripKey = (await ensureSecret(join(dataDir, 'grip-key'))).value;
  const adminToken = config.adminToken ?? (await ensureSecret(join(dataDir, 'admin-token'))).value;
  const { ports } = config;
  const { store } = config;
  return startStack({
    ports: {
      origin: ports.origin,
      origins: originPorts(config),
      pushpin: ports.pushpin,
      publish: ports.publish,
      edge: ports.edge,
    },
    dataFile: config.dataFile,
    origins: config.origins,
    redis:
      store.kind === 'redis-url'
        ? { url: store.url }
        : store.kind === 'private-redis'
          ? { dir: store.dir }
          : undefined,
    gripKey,
    adminToken,
    viceroy: config.viceroy === undefined ? undefined : { wasm: EDGE_WASM, bin: config.viceroy },
    pushpin: { logLevel: config.pushpinLogLevel },
    // Logs for people in a terminal; LOG_FORMAT=json keeps the production format.
    origin: { env: { LOG_FORMAT: process.env.LOG_FORMAT || 'pretty' } },
    onLine: print,
  });
}

// A Redis URL to print: without its password.
function redactUrl(url: string): string {
  return url
    .split(',')
    .map((one) => {
      try {
        const parsed = new URL(one.trim());
        if (parsed.password !== '') parsed.password = '***';
        return parsed.href.replace(/\/$/, '');
      } catch {
        return '(not a URL)';
      }
    })
    .join(',');
}

function storeLine(config: StartConfig, stack: Stack): string {
  const { store } = config;
  const redisUrl = () => redactUrl(stack.urls.redis ?? '');
  switch (store.kind) {
    case 'embedded':
      return `  Store: embedded, in ${relative(process.cwd(), config.dataFile)}`;
    case 'redis-url':
      return `  Store: Redis at ${redisUrl()} (REDIS_URL)`;
    case 'private-redis':
      return `  Store: Redis at ${redisUrl()} (a private redis-server; its files in ${relative(process.cwd(), store.dir)})`;
  }
}

function banner(config: StartConfig, stack: Stack): string {
  const { ports } = config;
  const origins =
    stack.origins.length === 1
      ? `origin :${ports.origin}`
      : `origins ${stack.origins.map((origin) => `:${origin.port}`).join(', ')}`;
  const open = config.dev
    ? `http://localhost:${ports.vite}/`
    : stack.urls.edge !== undefined
      ? `http://localhost:${ports.edge}/`
      : `http://localhost:${ports.pushpin}/`;
  const secretsAt = relative(process.cwd(), dirname(config.dataFile)) || '.';
  const lines = [
    '',
    '  Live leaderboards are running.',
    '',
    `  Open  ${open}`,
    '',
    `  Admin token: ${stack.adminToken}`,
    config.adminToken !== undefined
      ? '  (from ADMIN_TOKEN)'
      : `  (kept in ${join(secretsAt, 'admin-token')}; the web app asks for it to edit boards)`,
    '',
    config.dev ? `  Vite (hot reload) -> Pushpin :${ports.pushpin} -> ${origins}` : '',
    stack.urls.edge !== undefined
      ? `  Edge (Viceroy) :${ports.edge} -> Pushpin :${ports.pushpin} -> ${origins}`
      : `  The edge (Fastly Compute) is not running: no viceroy found. ${VICEROY_INSTALL_HINT}`,
    `  Pushpin :${ports.pushpin} -> ${origins}${stack.origins.length > 1 ? ' (each request to the first that accepts it)' : ''}`,
    storeLine(config, stack),
    '  Ctrl-C stops everything.',
    '',
  ];
  return lines.filter((line, i, all) => line !== '' || all[i - 1] !== '').join('\n');
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2), process.env);
  await checkPortsFree(config);
  await ensurePushpin();
  await ensureRedis(config);
  await build(config);

  // local/processes.ts stops every service on SIGINT/SIGTERM, then exits.
  let stopping = false;
  const onStop = () => {
    stopping = true;
    console.log('\nStopping…');
  };
  process.once('SIGINT', onStop);
  process.once('SIGTERM', onStop);
  process.on('exit', () => {
    if (stopping) console.log('Stopped.');
  });

  const stack = await startLocalStack(config);
  const services: Service[] = stack.services();
  if (config.dev) {
    const vite = await startVite({
      port: config.ports.vite,
      pushpinPort: config.ports.pushpin,
      onLine: (line) => print('vite', line),
    });
    services.push(vite);
  }
  console.log(banner(config, stack));

  // A service that dies on its own takes the rest down: half a stack only confuses.
  const first = await Promise.race(services.map((service) => service.exited.then(() => service)));
  if (stopping) return;
  throw new ServiceError(`${first.name} stopped unexpectedly.\n${formatLogs(first)}`);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof ServiceError ? `\n${error.message}` : error);
  await stopAllServices();
  process.exit(1);
});
