import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type Service, spawnService, stopAllServices, waitForHttp } from './processes.ts';

function node(name: string, script: string, url = 'http://127.0.0.1:1/'): Service {
  return spawnService({ name, command: process.execPath, args: ['-e', script], url });
}

async function lineMatching(service: Service, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = service.logs().find((l) => pattern.test(l));
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no line matching ${pattern} in ${service.logs().join('\n')}`);
}

// A zombie (dead, not yet reaped by PID 1) counts as gone.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return !existsSync('/proc/self/stat');
  }
}

afterEach(() => stopAllServices(500));

describe('spawnService', () => {
  it('runs an HTTP server that waitForHttp sees, keeps its lines, and stops it with SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const service = node(
      'web',
      `require('node:http').createServer((q, s) => s.end('hi')).listen(${port}, '127.0.0.1', () => console.log('listening ${port}'))`,
      url,
    );
    await waitForHttp(url, { service, timeoutMs: 10_000 });
    expect(await (await fetch(url)).text()).toBe('hi');
    expect(service.logs()).toContain(`listening ${port}`);
    expect(service.exit()).toBeUndefined();
    expect(await service.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(alive(service.pid)).toBe(false);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const service = node(
      'stubborn',
      `process.on('SIGTERM', () => console.log('ignored')); setInterval(() => {}, 1000); console.log('ready')`,
    );
    await lineMatching(service, /ready/);
    const started = Date.now();
    expect(await service.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(service.logs()).toContain('ignored');
  });

  it('stops what the child started too', async () => {
    const service = node(
      'parent',
      `const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log('grandchild ' + c.pid); setInterval(() => {}, 1000)`,
    );
    const grandchild = Number((await lineMatching(service, /^grandchild \d+$/)).split(' ')[1]);
    expect(alive(grandchild)).toBe(true);
    await service.stop(1_000);
    expect(alive(grandchild)).toBe(false);
  });

  it('kill9 kills at once what the child started, even in a process group of its own', async () => {
    // Pushpin's runner starts each of its programs in a new process group.
    const service = node(
      'runner',
      `const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true }); console.log('grandchild ' + c.pid); setInterval(() => {}, 1000)`,
    );
    const grandchild = Number((await lineMatching(service, /^grandchild \d+$/)).split(' ')[1]);
    expect(alive(grandchild)).toBe(true);
    expect(await service.kill9()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(alive(grandchild)).toBe(false);
  });

  it('ends what a service started when the service dies on its own', async () => {
    const service = node(
      'leaver',
      `const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true }); c.unref(); console.log('grandchild ' + c.pid); setTimeout(() => process.exit(2), 1500)`,
    );
    const grandchild = Number((await lineMatching(service, /^grandchild \d+$/)).split(' ')[1]);
    expect(await service.exited).toEqual({ code: 2, signal: null });
    for (let i = 0; i < 100 && alive(grandchild); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(alive(grandchild)).toBe(false);
  });
});

describe('waitForHttp', () => {
  it('fails fast with the last log lines when the process exits before answering', async () => {
    const service = node('doomed', `console.error('cannot open data file'); process.exit(3)`);
    const started = Date.now();
    await expect(waitForHttp(service.url, { service, timeoutMs: 20_000 })).rejects.toThrow(
      /doomed \(pid \d+\) exited \(code 3\)[\s\S]*cannot open data file/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails when a command cannot be started at all', async () => {
    const service = spawnService({
      name: 'ghost',
      command: 'no-such-command-for-this-test',
      args: [],
      url: 'http://127.0.0.1:1/',
    });
    await expect(waitForHttp(service.url, { service, timeoutMs: 5_000 })).rejects.toThrow(
      /ghost[\s\S]*ENOENT/,
    );
  });

  it('waits for the status asked for, and says the last one it got', async () => {
    const port = await freePort();
    const service = node(
      'gateway',
      `require('node:http').createServer((q, s) => s.writeHead(502).end()).listen(${port}, '127.0.0.1')`,
    );
    await waitForHttp(`http://127.0.0.1:${port}/`, { service, timeoutMs: 10_000 });
    await expect(
      waitForHttp(`http://127.0.0.1:${port}/`, { service, timeoutMs: 500, status: 200 }),
    ).rejects.toThrow(/did not answer 200 within 500 ms \(last answer: 502\)/);
  });

  it('times out with the logs of a service that never listens', async () => {
    const port = await freePort();
    const service = node('silent', `console.log('still booting'); setInterval(() => {}, 1000)`);
    await expect(
      waitForHttp(`http://127.0.0.1:${port}/`, { service, timeoutMs: 500 }),
    ).rejects.toThrow(/did not answer within 500 ms[\s\S]*still booting/);
  });
});

describe('freePort', () => {
  it('gives a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
