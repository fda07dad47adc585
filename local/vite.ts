import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROOT_DIR } from './origin.ts';
import { type Service, spawnService, waitForHttp } from './processes.ts';

export interface ViteOptions {
  /** Where Vite's dev server listens. */
  port: number;
  /** The Pushpin that web/vite.config.ts proxies the API to. */
  pushpinPort: number;
  onLine?: ((line: string) => void) | undefined;
}

/** Starts Vite's dev server (hot reload) on the web app, and resolves once it answers. */
export async function startVite(options: ViteOptions): Promise<Service> {
  const viteBin = join(
    dirname(createRequire(import.meta.url).resolve('vite/package.json')),
    'bin',
    'vite.js',
  );
  const service = spawnService({
    name: 'vite',
    command: process.execPath,
    args: [
      viteBin,
      '--config',
      'web/vite.config.ts',
      '--port',
      String(options.port),
      '--strictPort',
    ],
    cwd: ROOT_DIR,
    url: `http://127.0.0.1:${options.port}/`,
    env: { ...process.env, PUSHPIN_PORT: String(options.pushpinPort) },
    onLine: options.onLine,
  });
  try {
    await waitForHttp(service.url, { service, timeoutMs: 60_000 });
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}
