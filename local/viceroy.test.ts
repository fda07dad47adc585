import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceError } from './processes.ts';
import {
  findViceroy,
  startViceroy,
  viceroyArgs,
  viceroyConfig,
  viceroyVersion,
} from './viceroy.ts';

let dir: string;

async function script(path: string, body: string): Promise<string> {
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'viceroy-unit-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findViceroy', () => {
  it('takes the first executable viceroy on PATH', async () => {
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    await mkdir(a);
    await mkdir(b);
    await writeFile(join(a, 'viceroy'), 'not executable');
    const found = await script(join(b, 'viceroy'), 'exit 0');
    expect(findViceroy(`${join(dir, 'none')}:${a}:${b}`, join(dir, 'home'))).toBe(found);
  });

  it('falls back to ~/.cargo/bin, where cargo install puts it', async () => {
    const home = join(dir, 'home');
    await mkdir(join(home, '.cargo', 'bin'), { recursive: true });
    const found = await script(join(home, '.cargo', 'bin', 'viceroy'), 'exit 0');
    expect(findViceroy('', home)).toBe(found);
  });

  it('is undefined when there is none', () => {
    expect(findViceroy(join(dir, 'none'), join(dir, 'nohome'))).toBeUndefined();
  });
});

describe('viceroyVersion', () => {
  it('reads the version from `viceroy --version`', async () => {
    const bin = await script(join(dir, 'fake-viceroy'), 'echo "viceroy 0.22.0"');
    expect(await viceroyVersion(bin)).toBe('0.22.0');
  });

  it('fails with a ServiceError when the binary says nothing useful', async () => {
    const bin = await script(join(dir, 'mute-viceroy'), 'exit 3');
    await expect(viceroyVersion(bin)).rejects.toBeInstanceOf(ServiceError);
  });
});

describe('viceroyConfig and viceroyArgs', () => {
  it('declares the one origin backend the edge fetches from', () => {
    const config = viceroyConfig('http://127.0.0.1:4100/');
    expect(config).toContain('[local_server.backends.origin]\nurl = "http://127.0.0.1:4100/"\n');
    expect(config).toContain('manifest_version = 3');
  });

  it('refuses an origin that is not http(s)', () => {
    expect(() => viceroyConfig('ftp://127.0.0.1/')).toThrow(ServiceError);
    expect(() => viceroyConfig('not a url')).toThrow();
  });

  it('serves on 127.0.0.1 and hands Fanout requests to the given Pushpin port', () => {
    const options = {
      port: 7676,
      pushpinProxyPort: 7999,
      originUrl: 'http://127.0.0.1:3000/',
      wasm: '/x/main.wasm',
      dir: '/x',
    };
    expect(viceroyArgs(options, '/x/viceroy.toml')).toEqual([
      'serve',
      '--addr',
      '127.0.0.1:7676',
      '-C',
      '/x/viceroy.toml',
      '--local-pushpin-proxy-port=7999',
      '/x/main.wasm',
    ]);
  });
});

describe('startViceroy', () => {
  const options = {
    port: 1,
    pushpinProxyPort: 2,
    originUrl: 'http://127.0.0.1:3/',
    wasm: '/nonexistent/main.wasm',
  };

  it('says how to install Viceroy when there is none', async () => {
    const saved = { PATH: process.env.PATH, HOME: process.env.HOME };
    process.env.PATH = join(dir, 'none');
    process.env.HOME = join(dir, 'nohome');
    try {
      await expect(startViceroy({ ...options, dir })).rejects.toThrow(/cargo install viceroy/);
    } finally {
      process.env.PATH = saved.PATH;
      process.env.HOME = saved.HOME;
    }
  });

  it('says to build the edge when the wasm is missing', async () => {
    const bin = await script(join(dir, 'idle-viceroy'), 'exit 0');
    await expect(startViceroy({ ...options, dir, bin })).rejects.toThrow(/npm run build:edge/);
  });

  it('wants an absolute dir', async () => {
    await expect(startViceroy({ ...options, dir: 'relative' })).rejects.toThrow(/absolute/);
  });
});
