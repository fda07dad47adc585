import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { ensureSecret } from '../origin/secrets.ts';
import { ROOT_DIR, startOrigin } from './origin.ts';
import {
  formatLogs,
  portInUse,
  type Service,
  ServiceError,
  spawnService,
  stopAllServices,
  waitForHttp,
} from './processes.ts';
import { PUSHPIN_INSTALL_HINT, startPushpin } from './pushpin.ts';
import {
  buildEdgeWasm,
  EDGE_WASM,
  findViceroy,
  startViceroy,
  VICEROY_INSTALL_HINT,
} from './viceroy.ts';

// `npm start`: the whole product on this machine, behind one URL. `npm run dev` (`--dev`) adds
// Vite's dev server with hot reload in front. Ctrl-C stops everything this started.

const args = new Set(process.argv.slice(2));
const dev = args.has('--dev');
const verbose = args.has('--verbose');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new ServiceError(`${name}=${raw} is not a TCP port.`);
  }
  return value;
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

function printer(name: string, show: (line: string) => boolean = () => true) {
  return (line: string) => {
    if (verbose || show(line)) console.log(`[${name}] ${line}`);
  };
}

async function main(): Promise<void> {
  const ports = {
    origin: port('PORT', 3000),
    pushpin: port('PUSHPIN_PORT', 7999),
    publish: port('PUSHPIN_PUBLISH_PORT', 5561),
    edge: port('EDGE_PORT', 7676),
    vite: port('VITE_PORT', 5173),
  };
  const viceroy = findViceroy();
  const needed = [
    { port: ports.origin, variable: 'PORT' },
    { port: ports.pushpin, variable: 'PUSHPIN_PORT' },
    { port: ports.publish, variable: 'PUSHPIN_PUBLISH_PORT' },
    ...(viceroy ? [{ port: ports.edge, variable: 'EDGE_PORT' }] : []),
    ...(dev ? [{ port: ports.vite, variable: 'VITE_PORT' }] : []),
  ];
  for (const { port, variable } of needed) {
    if (await portInUse(port)) {
      throw new ServiceError(
        `Port ${port} is taken (another \`npm start\`?). Stop that, or choose another: ${variable}=<port> npm start.`,
      );
    }
  }

  await ensurePushpin();
  if (!dev) {
    console.log('Building the web app (npm run build:web)…');
    await run('npm', ['run', 'build:web']);
  }
  if (viceroy) {
    console.log('Building the edge wasm…');
    await buildEdgeWasm(EDGE_WASM);
  }

  const dataFile = resolve(ROOT_DIR, process.env.DATA_FILE ?? join('data', 'leaderboard.json'));
  const dataDir = dirname(dataFile);
  const gripKey = await ensureSecret(join(dataDir, 'grip-key'));
  const adminToken =
    process.env.ADMIN_TOKEN || (await ensureSecret(join(dataDir, 'admin-token'))).value;

  // Pushpin's sockets live in a short temp path (Unix socket paths are short), gone on exit.
  const runDir = await mkdtemp(join(tmpdir(), 'leaderboard-'));
  // local/processes.ts stops every service on SIGINT/SIGTERM, then exits.
  let stopping = false;
  const onStop = () => {
    stopping = true;
    console.log('\nStopping…');
  };
  process.once('SIGINT', onStop);
  process.once('SIGTERM', onStop);
  process.on('exit', () => {
    rmSync(runDir, { recursive: true, force: true });
    if (stopping) console.log('Stopped.');
  });

  const started: Service[] = [];
  const pushpin = await startPushpin({
    dir: join(runDir, 'pushpin'),
    httpPort: ports.pushpin,
    publishPort: ports.publish,
    originPort: ports.origin,
    sigKey: gripKey.value,
    // Pushpin logs every request at INFO; show warnings and errors unless --verbose.
    onLine: printer('pushpin', (line) => !line.startsWith('[INFO]')),
  });
  started.push(pushpin);
  const origin = await startOrigin({
    port: ports.origin,
    dataFile,
    gripUrl: pushpin.publishUrl,
    gripVerifyKey: gripKey.value,
    adminToken,
    onLine: printer('origin'),
  });
  started.push(origin);

  let edgeUrl: string | undefined;
  if (viceroy) {
    const edge = await startViceroy({
      port: ports.edge,
      pushpinProxyPort: ports.pushpin,
      originUrl: origin.url,
      wasm: EDGE_WASM,
      dir: join(runDir, 'viceroy'),
      bin: viceroy,
      onLine: printer('viceroy'),
    });
    started.push(edge);
    edgeUrl = `http://localhost:${ports.edge}/`;
  }

  let viteUrl: string | undefined;
  if (dev) {
    const viteBin = join(
      dirname(createRequire(import.meta.url).resolve('vite/package.json')),
      'bin',
      'vite.js',
    );
    const vite = spawnService({
      name: 'vite',
      command: process.execPath,
      args: [
        viteBin,
        '--config',
        'web/vite.config.ts',
        '--port',
        String(ports.vite),
        '--strictPort',
      ],
      cwd: ROOT_DIR,
      url: `http://127.0.0.1:${ports.vite}/`,
      // web/vite.config.ts proxies the API to the Pushpin on this port.
      env: { ...process.env, PUSHPIN_PORT: String(ports.pushpin) },
      onLine: printer('vite'),
    });
    started.push(vite);
    await waitForHttp(vite.url, { service: vite, timeoutMs: 60_000 });
    viteUrl = `http://localhost:${ports.vite}/`;
  }

  const open = viteUrl ?? edgeUrl ?? `http://localhost:${ports.pushpin}/`;
  const secretsAt = relative(process.cwd(), dataDir) || '.';
  console.log(
    [
      '',
      '  Live leaderboards are running.',
      '',
      `  Open  ${open}`,
      '',
      `  Admin token: ${adminToken}`,
      process.env.ADMIN_TOKEN
        ? '  (from ADMIN_TOKEN)'
        : `  (kept in ${join(secretsAt, 'admin-token')}; the web app asks for it to edit boards)`,
      '',
      dev ? `  Vite (hot reload) -> Pushpin :${ports.pushpin} -> origin :${ports.origin}` : '',
      edgeUrl
        ? `  Edge (Viceroy) :${ports.edge} -> Pushpin :${ports.pushpin} -> origin :${ports.origin}`
        : `  The edge (Fastly Compute) is not running: no viceroy found. ${VICEROY_INSTALL_HINT}`,
      `  Data: ${relative(process.cwd(), dataFile)}`,
      '  Ctrl-C stops everything.',
      '',
    ]
      .filter((line, i, all) => line !== '' || all[i - 1] !== '')
      .join('\n'),
  );

  // A service that dies on its own takes the rest down: half a stack only confuses.
  const first = await Promise.race(started.map((service) => service.exited.then(() => service)));
  if (stopping) return;
  throw new ServiceError(`${first.name} stopped unexpectedly.\n${formatLogs(first)}`);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof ServiceError ? `\n${error.message}` : error);
  await stopAllServices();
  process.exit(1);
});
