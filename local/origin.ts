import { fileURLToPath } from 'node:url';
import { apiPaths } from '../contract/paths.ts';
import { type Service, spawnService, waitForHttp } from './processes.ts';

/** The repository root: the origin runs from here so `--import tsx` and relative paths resolve. */
export const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface OriginOptions {
  /** Its name in logs and messages (default `origin`). */
  name?: string | undefined;
  port: number;
  host?: string | undefined;
  dataFile: string;
  /** Pushpin's publish endpoint, e.g. http://127.0.0.1:5561/. */
  gripUrl: string;
  /** The secret Pushpin signs `Grip-Sig` with. */
  gripVerifyKey: string;
  adminToken: string;
  /**
   * `REDIS_URL`: one node's URL, or a cluster's seed URLs separated by commas. Only this sets it:
   * the origin does not inherit this process's `REDIS_URL`, so without it the origin keeps the
   * embedded store wherever it runs.
   */
  redisUrl?: string | undefined;
  /** More environment for the origin; wins over everything else. */
  env?: NodeJS.ProcessEnv | undefined;
  onLine?: ((line: string) => void) | undefined;
  timeoutMs?: number | undefined;
  /** Node flags before the entry point, for those NODE_OPTIONS refuses (e.g. `--cpu-prof`). */
  nodeFlags?: readonly string[] | undefined;
}

/**
 * Starts `node --import tsx origin/main.ts` (one process, so `kill9()` is a real crash) and
 * resolves once its health path answers.
 */
export async function startOrigin(options: OriginOptions): Promise<Service> {
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host}:${options.port}/`;
  const { REDIS_URL: _inherited, ...inherited } = process.env;
  const service = spawnService({
    name: options.name ?? 'origin',
    command: process.execPath,
    args: [...(options.nodeFlags ?? []), '--import', 'tsx', 'origin/main.ts'],
    cwd: ROOT_DIR,
    url,
    env: {
      ...inherited,
      ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl }),
      PORT: String(options.port),
      HOST: host,
      DATA_FILE: options.dataFile,
      GRIP_URL: options.gripUrl,
      GRIP_VERIFY_KEY: options.gripVerifyKey,
      GRIP_VERIFY_ISS: 'pushpin',
      ADMIN_TOKEN: options.adminToken,
      ...options.env,
    },
    onLine: options.onLine,
  });
  try {
    await waitForHttp(new URL(apiPaths.health(), url).href, {
      service,
      timeoutMs: options.timeoutMs ?? 30_000,
    });
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}
