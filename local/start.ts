import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { ensureSecret } from '../origin/secrets.ts';
import { ROOT_DIR } from './origin.ts';
import { formatLogs, portInUse, type Service, ServiceError, stopAllServices } from './processes.ts';
import { PUSHPIN_INSTALL_HINT, pushpinLogLevelFromEnv } from './pushpin.ts';
import { type Stack, startStack } from './stack.ts';
import { buildEdgeWasm, EDGE_WASM, findViceroy, VICEROY_INSTALL_HINT } from './viceroy.ts';
import { startVite } from './vite.ts';

// `npm start`: the whole product on this machine, behind one URL. `npm run dev` (`--dev`) adds
// Vite's dev server with hot reload in front. Ctrl-C stops everything this started.

/** What `npm start` runs, read once from its arguments and the environment. */
interface StartConfig {
  dev: boolean;
  /**
   * `PUSHPIN_LOG_LEVEL`; `--verbose` makes it 2 (a line per request) when it is not set. Pushpin
   * writes nothing but warnings and errors at the default, 1.
   */
  pushpinLogLevel: number | undefined;
  ports: { origin: number; pushpin: number; publish: number; edge: number; vite: number };
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
  return {
    dev: args.has('--dev'),
    pushpinLogLevel: pushpinLogLevelFromEnv(env) ?? (args.has('--verbose') ? 2 : undefined),
    ports: {
      origin: port('PORT', 3000),
      pushpin: port('PUSHPIN_PORT', 7999),
      publish: port('PUSHPIN_PUBLISH_PORT', 5561),
      edge: port('EDGE_PORT', 7676),
      vite: port('VITE_PORT', 5173),
    },
    dataFile: resolve(ROOT_DIR, env.DATA_FILE || join('data', 'leaderboard.json')),
    adminToken: env.ADMIN_TOKEN || undefined,
    viceroy: findViceroy(env.PATH),
  };
}

async function checkPortsFree(config: StartConfig): Promise<void> {
  const { ports } = config;
  const needed = [
    { port: ports.origin, variable: 'PORT' },
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

async function ensurePushpin(): Promise<void> {
  if (onPath('pushpin')) return;
  const root = process.getuid?.() === 0;
  if (root && existsSync('/etc/debian_version') && onPath('apt-get')) {
    console.log('Pushpin is missing: installing it with apt-get (root on Debian)…');
    await run('apt-get', ['update']);
    await run('apt-get', ['install', '-y', 'pushpin']);
    return;
  }
  throw new ServiceError(`Pushpin is not installed. ${PUSHPIN_INSTALL_HINT}`);
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
  return startStack({
    ports: {
      origin: ports.origin,
      pushpin: ports.pushpin,
      publish: ports.publish,
      edge: ports.edge,
    },
    dataFile: config.dataFile,
    gripKey,
    adminToken,
    viceroy: config.viceroy === undefined ? undefined : { wasm: EDGE_WASM, bin: config.viceroy },
    pushpin: { logLevel: config.pushpinLogLevel },
    // Logs for people in a terminal; LOG_FORMAT=json keeps the production format.
    origin: { env: { LOG_FORMAT: process.env.LOG_FORMAT || 'pretty' } },
    onLine: print,
  });
}

function banner(config: StartConfig, stack: Stack): string {
  const { ports } = config;
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
    config.dev ? `  Vite (hot reload) -> Pushpin :${ports.pushpin} -> origin :${ports.origin}` : '',
    stack.urls.edge !== undefined
      ? `  Edge (Viceroy) :${ports.edge} -> Pushpin :${ports.pushpin} -> origin :${ports.origin}`
      : `  The edge (Fastly Compute) is not running: no viceroy found. ${VICEROY_INSTALL_HINT}`,
    `  Data: ${relative(process.cwd(), config.dataFile)}`,
    '  Ctrl-C stops everything.',
    '',
  ];
  return lines.filter((line, i, all) => line !== '' || all[i - 1] !== '').join('\n');
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2), process.env);
  await checkPortsFree(config);
  await ensurePushpin();
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
