import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import packageJson from '../package.json' with { type: 'json' };
import { ROOT_DIR } from './origin.ts';
import { type Service, ServiceError, spawnService, waitForHttp } from './processes.ts';

/** The Viceroy this project is tested with: pinned once, in package.json `config.viceroyVersion`. */
export const VICEROY_VERSION: string = packageJson.config.viceroyVersion;

export const VICEROY_INSTALL_HINT = `Install Viceroy (Fastly's local Compute server) once per machine: \`cargo install viceroy --locked --version ${VICEROY_VERSION}\` (a long Rust build; it lands in ~/.cargo/bin).`;

/** Where `npm run build:edge` writes the edge. */
export const EDGE_WASM = join(ROOT_DIR, 'bin', 'main.wasm');

/**
 * The `viceroy` binary: the first on PATH, else `~/.cargo/bin/viceroy` (where `cargo install`
 * puts it even when that directory is not on PATH); undefined when there is none.
 */
export function findViceroy(path = process.env.PATH ?? '', home = homedir()): string | undefined {
  const candidates = [
    ...path
      .split(delimiter)
      .filter((dir) => dir !== '')
      .map((dir) => join(dir, 'viceroy')),
    join(home, '.cargo', 'bin', 'viceroy'),
  ];
  return candidates.find(isExecutable);
}

/** The version `viceroy --version` reports ("viceroy 0.22.0" gives "0.22.0"). */
export function viceroyVersion(bin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['--version'], { timeout: 10_000 }, (error, stdout) => {
      const version = /(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
      if (error !== null || version === undefined) {
        reject(new ServiceError(`\`${bin} --version\` failed: ${error?.message ?? stdout}`));
        return;
      }
      resolve(version);
    });
  });
}

export interface ViceroyOptions {
  /** Where Viceroy serves the edge (127.0.0.1). */
  port: number;
  /** Pushpin's client port: Fanout handoffs go there, with `Pushpin-Route: origin`. */
  pushpinProxyPort: number;
  /** Where the `origin` backend points for everything that is not handed off. */
  originUrl: string;
  /** The edge's wasm (`npm run build:edge` writes `bin/main.wasm`). */
  wasm: string;
  /** Absolute directory for the Viceroy config this writes. */
  dir: string;
  /** The `viceroy` binary; found with `findViceroy()` by default. */
  bin?: string | undefined;
  onLine?: ((line: string) => void) | undefined;
  /** Viceroy compiles the whole wasm before it listens: give it time on small machines. */
  timeoutMs?: number | undefined;
}

/** A running Viceroy. */
export interface ViceroyService extends Service {
  configFile: string;
}

/**
 * Viceroy's config: the `[local_server]` part of a `fastly.toml`, with the one backend the edge
 * uses. Pure.
 */
export function viceroyConfig(originUrl: string): string {
  const url = new URL(originUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ServiceError(`Viceroy's origin must be an http(s) URL, got ${originUrl}.`);
  }
  return [
    '# Written by local/viceroy.ts for one local Viceroy; rewritten on every start.',
    'manifest_version = 3',
    'name = "grip-leaderboard-edge"',
    'language = "javascript"',
    '',
    '[local_server.backends.origin]',
    `url = ${JSON.stringify(url.href)}`,
    '',
  ].join('\n');
}

/** The arguments of `viceroy serve` for these options and config file. Pure. */
export function viceroyArgs(options: ViceroyOptions, configFile: string): string[] {
  return [
    'serve',
    '--addr',
    `127.0.0.1:${options.port}`,
    '-C',
    configFile,
    `--local-pushpin-proxy-port=${options.pushpinProxyPort}`,
    options.wasm,
  ];
}

/**
 * Writes a Viceroy config into `options.dir`, runs `viceroy serve` on the edge's wasm, and
 * resolves once the edge answers its own health route.
 */
export async function startViceroy(options: ViceroyOptions): Promise<ViceroyService> {
  if (!isAbsolute(options.dir)) {
    throw new ServiceError(`Viceroy dir must be absolute, got ${options.dir}.`);
  }
  const bin = options.bin ?? findViceroy();
  if (bin === undefined)
    throw new ServiceError(`Viceroy is not installed. ${VICEROY_INSTALL_HINT}`);
  if (!isReadable(options.wasm)) {
    throw new ServiceError(`No edge wasm at ${options.wasm}: run \`npm run build:edge\` first.`);
  }
  await mkdir(options.dir, { recursive: true });
  const configFile = join(options.dir, 'viceroy.toml');
  await writeFile(configFile, viceroyConfig(options.originUrl));

  const url = `http://127.0.0.1:${options.port}/`;
  const service = spawnService({
    name: 'viceroy',
    command: bin,
    args: viceroyArgs(options, configFile),
    url,
    onLine: options.onLine,
  });
  try {
    await waitForHttp(new URL('edge/health', url).href, {
      service,
      timeoutMs: options.timeoutMs ?? 120_000,
    });
  } catch (error) {
    await service.stop();
    throw error;
  }
  return { ...service, configFile };
}

/**
 * Compiles `edge/src/index.ts` into a wasm with `js-compute-runtime` (offline; about 10 s). No
 * type check: `npm run build:edge` adds `tsc -p edge`.
 */
export function buildEdgeWasm(out: string): Promise<void> {
  const cli = join(
    ROOT_DIR,
    'node_modules',
    '@fastly',
    'js-compute',
    'dist',
    'cli',
    'js-compute-runtime-cli.js',
  );
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, join(ROOT_DIR, 'edge', 'src', 'index.ts'), out],
      { cwd: ROOT_DIR, timeout: 300_000 },
      (error, stdout, stderr) => {
        if (error === null) resolve();
        else
          reject(
            new ServiceError(`Building the edge wasm failed: ${error.message}\n${stdout}${stderr}`),
          );
      },
    );
  });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isReadable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
