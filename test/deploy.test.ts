import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiPaths } from '../contract/paths.ts';
import {
  envFile,
  type Fetch,
  PUBLIC_IP_LIST_URL,
  parsePublicIpList,
  main as trustProxyMain,
} from '../deploy/fastly-trust-proxy.ts';
import { ORIGIN_BACKEND } from '../edge/src/router.ts';
import { ROOT_DIR } from '../local/origin.ts';
import {
  formatLogs,
  freePort,
  type Service,
  spawnService,
  waitForHttp,
} from '../local/processes.ts';
import { EDGE_WASM } from '../local/viceroy.ts';
import { loadConfig } from '../origin/config.ts';

// What the deploy runbook (docs/deploy.md) relies on, checked with the real tools, offline and on
// loopback only: the Fastly ranges script, Caddy in front of an origin, the Compute package.

const required = process.env.CI === 'true';
const caddyBin = findOnPath('caddy');
const CADDY_HINT = 'Install Caddy (Debian: `apt-get install -y caddy`, 2.6 or newer).';
if (caddyBin === undefined && !required) {
  console.warn(`test/deploy.test.ts: the Caddy tests are skipped, caddy not found. ${CADDY_HINT}`);
}

const FASTLY_CLI = join(ROOT_DIR, 'node_modules', '.bin', 'fastly');
const CADDYFILE = join(ROOT_DIR, 'deploy', 'Caddyfile');

/**
 * A stand-in for https://api.fastly.com/public-ip-list: the same JSON shape, with documentation
 * ranges (RFC 5737, RFC 3849) instead of Fastly's, which change and are not the point here.
 */
const FIXTURE = {
  addresses: ['192.0.2.0/24', '198.51.100.0/24'],
  ipv6_addresses: ['2001:db8::/32'],
};

function findOnPath(name: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, name))
    .find((file) => {
      try {
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (bounded), never throwing for a non-zero exit; `input` is its stdin. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    // A program that exits without reading its stdin would make this write fail (EPIPE).
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/**
 * Reads the subset of systemd's EnvironmentFile syntax deploy/ uses: `KEY=value` lines, comments,
 * values in single quotes (taken as they are) or double quotes.
 */
function readEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) {
      throw new Error(`not an EnvironmentFile line: ${raw}`);
    }
    const value = match[2];
    const quoted = /^'([^']*)'$/.exec(value) ?? /^"((?:[^"\\]|\\.)*)"$/.exec(value);
    env[match[1]] = quoted?.[1] ?? value;
  }
  return env;
}

/** The `Environment=` and `EnvironmentFile=` lines of a unit. */
function readUnitEnvironment(unit: string) {
  const env: Record<string, string> = {};
  const files: string[] = [];
  for (const line of unit.split('\n')) {
    const assignment = /^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (assignment?.[1] !== undefined && assignment[2] !== undefined) {
      env[assignment[1]] = assignment[2];
    }
    const file = /^EnvironmentFile=-?(.*)$/.exec(line)?.[1];
    if (file !== undefined) files.push(file);
  }
  return { env, files };
}

const deployFile = (...parts: string[]) => readFile(join(ROOT_DIR, 'deploy', ...parts), 'utf8');

/** The local stand-in for Fastly's list: the fixture, and the ways a real answer can go wrong. */
function ipListServer(): Server {
  return createServer((req, res) => {
    const answers: Record<string, [number, string]> = {
      '/public-ip-list': [200, JSON.stringify(FIXTURE)],
      '/down': [503, 'upstream unavailable'],
      '/empty': [200, JSON.stringify({ addresses: [], ipv6_addresses: ['2001:db8::/32'] })],
      '/mixed': [200, JSON.stringify({ ...FIXTURE, addresses: ['2001:db8::/32'] })],
      '/not-cidr': [200, JSON.stringify({ ...FIXTURE, addresses: ['192.0.2.1'] })],
    };
    const [status, body] = answers[req.url ?? ''] ?? [404, 'not found'];
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
}

describe('deploy/fastly-trust-proxy.ts', () => {
  let server: Server | undefined;
  let base = '';

  beforeAll(async () => {
    server = ipListServer();
    base = await listen(server);
  });
  afterAll(() => close(server));

  /** Runs the script's main with its fetch pointed at the local server. */
  async function runMain(argv: string[], path = '/public-ip-list') {
    const asked: string[] = [];
    const fetchLocal: Fetch = (url, init) => {
      asked.push(url);
      return fetch(`${base}${path}`, init);
    };
    let stdout = '';
    let stderr = '';
    const code = await trustProxyMain(argv, {
      fetch: fetchLocal,
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
    });
    return { code, stdout, stderr, asked };
  }

  it("asks Fastly's list and prints a TRUST_PROXY the origin accepts and Express trusts", async () => {
    const { code, stdout, stderr, asked } = await runMain([]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(asked).toEqual([PUBLIC_IP_LIST_URL]);
    const value = stdout.trim();
    expect(value).toBe('loopback,192.0.2.0/24,198.51.100.0/24,2001:db8::/32');

    const config = loadConfig({ TRUST_PROXY: value });
    expect(config.trustProxy).toBe(value);
    const trust: (address: string, hop: number) => boolean = express()
      .set('trust proxy', config.trustProxy)
      .get('trust proxy fn');
    expect(trust('127.0.0.1', 0)).toBe(true); // Caddy
    expect(trust('198.51.100.20', 1)).toBe(true); // a Fastly POP
    expect(trust('2001:db8::1', 1)).toBe(true);
    expect(trust('203.0.113.9', 2)).toBe(false); // the client
  });

  it('prints the ranges for Caddy, and one EnvironmentFile for both', async () => {
    const caddy = await runMain(['--format', 'caddy']);
    expect(caddy.stdout).toBe('192.0.2.0/24 198.51.100.0/24 2001:db8::/32\n');

    const env = await runMain(['--format=env', '--local', '127.0.0.1,10.0.0.0/8']);
    expect(env.code).toBe(0);
    const lines = env.stdout.split('\n').filter((line) => !line.startsWith('#') && line !== '');
    expect(lines).toEqual([
      'TRUST_PROXY=127.0.0.1,10.0.0.0/8,192.0.2.0/24,198.51.100.0/24,2001:db8::/32',
      'FASTLY_ADDRESSES="192.0.2.0/24 198.51.100.0/24 2001:db8::/32"',
    ]);
  });

  it('prints nothing and fails when the list is unusable', async () => {
    for (const [path, message] of [
      ['/down', 'answered 503'],
      ['/empty', '"addresses" is empty'],
      ['/mixed', 'is not ipv4'],
      ['/not-cidr', 'not a CIDR range'],
    ] as const) {
      const result = await runMain([], path);
      expect(result.code, path).toBe(1);
      expect(result.stdout, path).toBe('');
      expect(result.stderr, path).toContain(message);
    }
    const badLocal = await runMain(['--local', 'everyone']);
    expect(badLocal.code).toBe(1);
    expect(badLocal.stderr).toContain('--local');
  });

  it('runs as a command (node --import tsx) against a given --url', async () => {
    const result = await run(
      process.execPath,
      ['--import', 'tsx', 'deploy/fastly-trust-proxy.ts', '--url', `${base}/public-ip-list`],
      { cwd: ROOT_DIR },
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('loopback,192.0.2.0/24,198.51.100.0/24,2001:db8::/32\n');
  });
});

/** Caddy's own state (autosave, certificates) goes to a temporary HOME, never the user's. */
function caddyEnv(home: string, vars: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    ...vars,
  };
}

/** The origin's part, as a small Express app: a stream it writes to on demand, and who it sees. */
interface Backend {
  url: string;
  /** Writes to every open stream. */
  send(text: string): void;
  close(): Promise<void>;
}

async function startBackend(trustProxy: string): Promise<Backend> {
  const streams = new Set<ServerResponse>();
  const app = express().set('trust proxy', trustProxy);
  app.get('/whoami', (req, res) => {
    res.json({ ip: req.ip, forwardedFor: req.get('x-forwarded-for') ?? null });
  });
  app.get('/stream', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('event: hello\ndata: 1\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
  });
  const server = createServer(app);
  const url = await listen(server);
  return {
    url,
    send: (text) => {
      for (const res of streams) res.write(text);
    },
    close: () => close(server),
  };
}

/** Reads a response as it arrives; `next(pattern)` waits until the text so far matches. */
function openStream(url: string, headers: Record<string, string>) {
  let text = '';
  let ended = false;
  let wake: () => void = () => {};
  const req = request(url, { headers }, (res: IncomingMessage) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      wake();
    });
    res.on('end', () => {
      ended = true;
      wake();
    });
  });
  req.on('error', () => {
    ended = true;
    wake();
  });
  req.end();
  return {
    async next(pattern: RegExp, withinMs: number): Promise<string> {
      const deadline = Date.now() + withinMs;
      while (!pattern.test(text)) {
        if (ended)
          throw new Error(`the stream ended before ${pattern}; got ${JSON.stringify(text)}`);
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no ${pattern} within ${withinMs} ms; got ${JSON.stringify(text)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, left);
        });
      }
      return text;
    },
    get ended() {
      return ended;
    },
    close: () => req.destroy(),
  };
}

/** Whether this machine has `address` (a socket can be bound to it). */
function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, address, () => server.close(() => resolve(true)));
  });
}

/** GET through Caddy from a chosen loopback address (127.0.0.2 plays Fastly, 127.0.0.3 not). */
function getFrom(url: string, localAddress: string, headers: Record<string, string>) {
  return new Promise<unknown>((resolve, reject) => {
    const req = request(url, { localAddress, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`${res.statusCode}: ${body}`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(caddyBin === undefined && !required)('deploy/Caddyfile (Caddy)', () => {
  let home: string | undefined;
  let backend: Backend | undefined;
  let caddy: Service | undefined;
  let caddyUrl = '';
  /** What production gives Caddy: deploy/caddy.env.example and the ranges script's file. */
  let production: Record<string, string> = {};

  beforeAll(async () => {
    if (caddyBin === undefined) {
      throw new Error(`CI=true and caddy is missing: the Caddy tests must run. ${CADDY_HINT}`);
    }
    home = await mkdtemp(join(tmpdir(), 'deploy-caddy-'));
    production = {
      ...readEnvFile(await deployFile('caddy.env.example')),
      ...readEnvFile(envFile(parsePublicIpList(FIXTURE))),
    };
    expect(Object.keys(production)).toEqual(
      expect.arrayContaining(['ORIGIN_HOST', 'ACME_EMAIL', 'FASTLY_ADDRESSES']),
    );
  });

  afterAll(async () => {
    // The backend first: Caddy's graceful stop waits for its upstream streams to end.
    await backend?.close();
    await caddy?.stop();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  const validate = (vars: Record<string, string>) =>
    run(caddyBin ?? 'caddy', ['validate', '--config', CADDYFILE, '--adapter', 'caddyfile'], {
      env: caddyEnv(home ?? tmpdir(), vars),
      timeoutMs: 30_000,
    });

  it('validates as production runs it: a real host name, automatic HTTPS, Fastly ranges', async () => {
    // `caddy validate` provisions the config without starting it: no certificate is requested.
    const result = await validate(production);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain('Valid configuration');
    // Caddy warns at every start about a file `caddy fmt` would change.
    expect(result.stderr).not.toContain('not formatted');
  });

  it('refuses to run without the Fastly ranges, naming the variable', async () => {
    const { FASTLY_ADDRESSES: _, ...rest } = production;
    const result = await validate(rest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('FASTLY_ADDRESSES-is-not-set');
  });

  it('runs on loopback in front of an origin', async () => {
    // The backend trusts Caddy and the "Fastly" peer exactly, as the origin's TRUST_PROXY would.
    backend = await startBackend(loadConfig({ TRUST_PROXY: '127.0.0.1,127.0.0.2' }).trustProxy);
    const port = await freePort();
    caddyUrl = `http://127.0.0.1:${port}`;
    caddy = spawnService({
      name: 'caddy',
      command: caddyBin ?? 'caddy',
      args: ['run', '--config', CADDYFILE, '--adapter', 'caddyfile'],
      url: caddyUrl,
      env: caddyEnv(home ?? tmpdir(), {
        ...production,
        // The same file, on loopback and plain HTTP: an http:// site address turns automatic
        // HTTPS off for it, so nothing reaches out for a certificate.
        ORIGIN_HOST: caddyUrl,
        CADDY_BIND: '127.0.0.1',
        CADDY_ADMIN: 'off',
        ORIGIN_UPSTREAM: new URL(backend.url).host,
        FASTLY_ADDRESSES: '127.0.0.2/32',
      }),
    });
    await waitForHttp(`${caddyUrl}/whoami`, { service: caddy, timeoutMs: 20_000 });
  }, 30_000);

  it('passes SSE events on at once, while the stream stays open', async () => {
    if (caddy === undefined || backend === undefined) throw new Error('Caddy did not start');
    const stream = openStream(`${caddyUrl}/stream`, { accept: 'text/event-stream' });
    try {
      await stream.next(/event: hello\ndata: 1\n\n/, 5_000);
      const sentAt = Date.now();
      backend.send('event: update\ndata: 2\n\n');
      await stream.next(/event: update\ndata: 2\n\n/, 1_000);
      expect(Date.now() - sentAt).toBeLessThan(1_000);
      expect(stream.ended).toBe(false);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${formatLogs(caddy)}`);
    } finally {
      stream.close();
    }
  });

  it("keeps the client's X-Forwarded-For from a trusted peer only", async (ctx) => {
    if (caddy === undefined) throw new Error('Caddy did not start');
    // Linux answers on all of 127.0.0.0/8; macOS has only 127.0.0.1 unless aliases are added.
    if (!(await canBind('127.0.0.2')) || !(await canBind('127.0.0.3'))) {
      ctx.skip('127.0.0.2 and 127.0.0.3 are not local addresses on this machine');
    }
    // Through "Fastly": the edge's header is kept and the peer appended; the origin sees the client.
    expect(
      await getFrom(`${caddyUrl}/whoami`, '127.0.0.2', { 'x-forwarded-for': '203.0.113.7' }),
    ).toEqual({ ip: '203.0.113.7', forwardedFor: '203.0.113.7, 127.0.0.2' });
    // Straight to Caddy from anyone else: a forged header is replaced by the real peer.
    expect(
      await getFrom(`${caddyUrl}/whoami`, '127.0.0.3', { 'x-forwarded-for': '198.51.100.9' }),
    ).toEqual({ ip: '127.0.0.3', forwardedFor: '127.0.0.3' });
  });
});

const systemdAnalyze = findOnPath('systemd-analyze');

describe('deploy/systemd and deploy/origin.env.example', () => {
  let dir: string | undefined;
  let origin: Service | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deploy-systemd-'));
  });
  afterAll(async () => {
    await origin?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** What the unit and its EnvironmentFiles give the origin, with test values for placeholders. */
  async function productionEnv(serviceId: string) {
    const unit = readUnitEnvironment(await deployFile('systemd', 'leaderboard-origin.service'));
    expect(unit.files).toEqual([
      '/etc/leaderboard/origin.env',
      '/etc/leaderboard/fastly-ranges.env',
    ]);
    const secrets = (await deployFile('origin.env.example'))
      .replaceAll('<service-id>', serviceId)
      .replaceAll('<token>', 'not-a-real-fastly-token')
      .replaceAll('<admin-token>', 'an-admin-token-for-this-test-only');
    return {
      ...unit.env,
      ...readEnvFile(secrets),
      ...readEnvFile(envFile(parsePublicIpList(FIXTURE))),
    };
  }

  it("is a production configuration the origin accepts, publishing to the service's Fanout", async () => {
    const config = loadConfig(await productionEnv('SU1Z0isxPaozGVKXdv0eY'));
    expect(config).toMatchObject({
      production: true,
      host: '127.0.0.1',
      port: 3000,
      gripKey: 'not-a-real-fastly-token',
      gripVerifyIss: 'fastly:SU1Z0isxPaozGVKXdv0eY',
      dataFile: '/var/lib/leaderboard/leaderboard.json',
    });
    // The token goes as a bearer token, never in the URL js-grip publishes to.
    expect(config.gripUrl).toMatch(
      /^https:\/\/api\.fastly\.com\/service\/SU1Z0isxPaozGVKXdv0eY\/?$/,
    );
    expect(config.trustProxy.split(',')[0]).toBe('loopback');
  });

  it('starts the origin in production with it, which then refuses unsigned streams', async () => {
    if (dir === undefined) throw new Error('no temporary directory');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    origin = spawnService({
      name: 'origin',
      command: process.execPath,
      // The unit runs the bundle (dist/origin/main.js); this is its source, so never stale.
      args: ['--import', 'tsx', 'origin/main.ts'],
      cwd: ROOT_DIR,
      url,
      env: {
        PATH: process.env.PATH,
        ...(await productionEnv('SU1Z0isxPaozGVKXdv0eY')),
        PORT: String(port),
        DATA_FILE: join(dir, 'state', 'leaderboard.json'),
        WEB_DIST: join(dir, 'web'),
      },
    });
    await waitForHttp(`${url}${apiPaths.health()}`, { service: origin, timeoutMs: 30_000 });
    const boards = await fetch(`${url}${apiPaths.boards()}`);
    expect(boards.status).toBe(200);
    // Ready: the data file takes writes, and no publish has failed (none was needed yet).
    expect((await fetch(`${url}${apiPaths.ready()}`)).status).toBe(200);
    // No Grip-Sig from Fanout: a stream is refused, not held open by the origin itself.
    const stream = await fetch(`${url}${apiPaths.board('demo')}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(406);
    const exit = await origin.stop();
    expect(exit).toEqual({ code: 0, signal: null });
  }, 40_000);

  it.skipIf(systemdAnalyze === undefined)('passes systemd-analyze verify', async () => {
    if (dir === undefined || systemdAnalyze === undefined) throw new Error('unreachable');
    const units = join(dir, 'units');
    await mkdir(join(units, 'caddy.service.d'), { recursive: true });
    // verify checks that ExecStart exists: point it at this machine's node.
    const unit = (await deployFile('systemd', 'leaderboard-origin.service')).replace(
      'ExecStart=/usr/bin/node ',
      `ExecStart=${process.execPath} `,
    );
    await writeFile(join(units, 'leaderboard-origin.service'), unit);
    const toVerify = [join(units, 'leaderboard-origin.service')];
    // The drop-in is checked with the caddy.service it extends, when Caddy's package installed it.
    const caddyUnit = '/lib/systemd/system/caddy.service';
    if (existsSync(caddyUnit)) {
      await copyFile(caddyUnit, join(units, 'caddy.service'));
      await copyFile(
        join(ROOT_DIR, 'deploy', 'systemd', 'caddy-leaderboard.conf'),
        join(units, 'caddy.service.d', 'leaderboard.conf'),
      );
      toVerify.push(join(units, 'caddy.service'));
    }
    const result = await run(systemdAnalyze, ['verify', ...toVerify], {
      env: { PATH: process.env.PATH, SYSTEMD_UNIT_PATH: `${units}:` },
    });
    // Unknown keys are only warnings (exit 0): any output at all is a problem.
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });
});

/** The manifest keys Fastly CLI 16 reads (fastly/cli pkg/manifest: file.go, setup.go, local_server.go). */
const KNOWN_KEYS: readonly RegExp[] = [
  /^(authors|cloned_from|description|language|manifest_version|name|profile|service_id)$/,
  /^scripts\.(build|env_file|env_vars|post_build|post_init)$/,
  /^local_server\.backends\.[\w-]+\.(url|override_host|cert_host|use_sni)$/,
  /^local_server\.viceroy_version$/,
  /^setup\.backends\.[\w-]+\.(address|port|description)$/,
  /^setup\.products\.(api_discovery|brotli_compression|domain_inspector|fanout|image_optimizer|log_explorer_insights|origin_inspector|websockets)\.enable$/,
];

type TomlValue = string | number | boolean | string[];

/**
 * Reads the subset of TOML our fastly.toml is written in (tables, `key = value` with strings,
 * integers, booleans and string arrays, comments) into dotted keys. The CLI drops keys it does not
 * know without a word, so a misspelt table would pass `compute pack`: this is what catches it.
 */
function readManifest(text: string): Map<string, TomlValue> {
  const keys = new Map<string, TomlValue>();
  let table = '';
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const header = /^\[([\w.-]+)\]\s*(#.*)?$/.exec(line);
    if (header?.[1] !== undefined) {
      table = `${header[1]}.`;
      return;
    }
    const pair = /^([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\]|-?\d+|true|false)\s*(#.*)?$/.exec(
      line,
    );
    if (pair?.[1] === undefined || pair[2] === undefined) {
      throw new Error(`fastly.toml line ${index + 1} is beyond this test's TOML reader: ${raw}`);
    }
    keys.set(`${table}${pair[1]}`, JSON.parse(pair[2]) as TomlValue);
  });
  return keys;
}

/**
 * An environment for the Fastly CLI: its own HOME (it writes its config and error log there, not
 * in the user's), and no way out. The CLI asks GitHub-hosted metadata for a newer version of itself
 * over HTTPS and, unless --quiet, waits for the answer (up to 2 minutes) before exiting: through a
 * proxy that is not there, that fails at once, offline or not. Calls to 127.0.0.1 never use it.
 */
function fastlyCliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    HTTPS_PROXY: 'http://127.0.0.1:9',
    ...extra,
  };
}

/** `npm test` builds bin/main.wasm before vitest runs; on its own, this file builds it. */
async function ensureEdgeWasm(): Promise<void> {
  if (existsSync(EDGE_WASM)) return;
  const build = await run('npm', ['run', 'build:edge'], { cwd: ROOT_DIR, timeoutMs: 300_000 });
  if (build.code !== 0) throw new Error(`npm run build:edge failed:\n${build.stderr}`);
}

/** A project copy holding this manifest and the built wasm, packed by the CLI. */
async function packProject(dir: string, manifest: string) {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await copyFile(EDGE_WASM, join(dir, 'bin', 'main.wasm'));
  await writeFile(join(dir, 'fastly.toml'), manifest);
  const pack = await run(
    FASTLY_CLI,
    ['compute', 'pack', '--wasm-binary', 'bin/main.wasm', '--quiet'],
    { cwd: dir, env: fastlyCliEnv(dir) },
  );
  return { pack, pkg: join(dir, 'pkg', 'grip-leaderboard-edge.tar.gz') };
}

const readRepoManifest = () => readFile(join(ROOT_DIR, 'fastly.toml'), 'utf8');

describe('the Compute package (Fastly CLI, offline)', () => {
  let work: string | undefined;

  beforeAll(async () => {
    await ensureEdgeWasm();
    work = await mkdtemp(join(tmpdir(), 'deploy-pack-'));
  }, 320_000);

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  /** A project copy with this manifest and the built wasm, packed and validated by the CLI. */
  async function packAndValidate(name: string, manifest: string) {
    const dir = join(work ?? tmpdir(), name);
    const { pack, pkg } = await packProject(dir, manifest);
    const validate = existsSync(pkg)
      ? await run(FASTLY_CLI, ['compute', 'validate', '--package', pkg, '--quiet'], {
          cwd: dir,
          env: fastlyCliEnv(dir),
        })
      : undefined;
    return { dir, pack, validate, pkg };
  }

  it("packs bin/main.wasm with fastly.toml, and the CLI's validate accepts the package", async () => {
    const manifest = await readRepoManifest();
    const { pack, validate } = await packAndValidate('good', manifest);
    expect(pack.code, pack.stderr).toBe(0);
    // validate opens the archive and requires a fastly.toml and a main.wasm in it; the manifest
    // itself is parsed by pack (a broken one stops there, next test).
    expect(validate?.code, validate?.stderr).toBe(0);
    expect(validate?.stdout).toContain('Validated package');
  });

  it('refuses a broken manifest (the check is not vacuous)', async () => {
    const manifest = await readRepoManifest();
    const broken: [string, string, string][] = [
      ['syntax', manifest.replace(/^name = "(.*)"$/m, 'name = "$1'), 'unescaped'],
      ['type', manifest.replace(/^enable = true$/m, 'enable = "yes"'), "Can't convert"],
      [
        'version',
        manifest.replace(/^manifest_version = 3$/m, 'manifest_version = 99'),
        'fastly.toml',
      ],
    ];
    for (const [name, text, message] of broken) {
      expect(text, name).not.toBe(manifest);
      const { pack, validate } = await packAndValidate(`broken-${name}`, text);
      expect(pack.code, name).not.toBe(0);
      expect(pack.stderr, name).toContain(message);
      expect(validate, name).toBeUndefined(); // no package was written
    }
  });

  it('holds only keys the CLI reads, and what the deploy needs', async () => {
    const keys = readManifest(await readRepoManifest());
    const unknown = [...keys.keys()].filter((key) => !KNOWN_KEYS.some((known) => known.test(key)));
    expect(unknown, 'keys Fastly CLI 16 would silently drop').toEqual([]);
    expect(keys.get('manifest_version')).toBe(3);
    expect(keys.get('name')).toBe('grip-leaderboard-edge');
    expect(keys.get('language')).toBe('javascript');
    expect(keys.get('scripts.build')).toBe('npm run build:edge');
    // The backend the edge fetches and hands off to, created by the first publish. Its address
    // is asked for then (the prompt offers 127.0.0.1): none is written here.
    expect(keys.get(`setup.backends.${ORIGIN_BACKEND}.port`)).toBe(443);
    expect(keys.has(`setup.backends.${ORIGIN_BACKEND}.address`)).toBe(false);
    expect(keys.get('setup.products.fanout.enable')).toBe(true);
    expect(keys.get(`local_server.backends.${ORIGIN_BACKEND}.url`)).toMatch(
      /^http:\/\/127\.0\.0\.1:/,
    );
    // A committed service id would send every clone's publish to one service.
    expect(keys.has('service_id')).toBe(false);
  });
});

const SERVICE_ID = 'SU1Z0isxPaozGVKXdv0eY';

interface ApiCall {
  method: string;
  path: string;
  /** The form fields of a urlencoded body (the CLI sends its API writes so). */
  form: Record<string, string>;
  key: string | undefined;
}

interface Version {
  number: number;
  active: boolean;
  locked: boolean;
  service_id: string;
}

/** One request to the stand-in API, as the tests look at it. */
function recordedCall(req: IncomingMessage, body: Buffer): ApiCall {
  const urlencoded = (req.headers['content-type'] ?? '').startsWith(
    'application/x-www-form-urlencoded',
  );
  const key = req.headers['fastly-key'];
  return {
    method: req.method ?? '',
    path: new URL(req.url ?? '/', 'http://api').pathname,
    form: urlencoded ? Object.fromEntries(new URLSearchParams(body.toString())) : {},
    key: typeof key === 'string' ? key : undefined,
  };
}

/**
 * A stand-in for the few paths of Fastly's API that the runbook's CLI commands call (as the CLI
 * calls them; found by running it), recording every call. Enough state for one service.
 */
function fakeFastlyApi() {
  const calls: ApiCall[] = [];
  let versions: Version[] = [];
  const backends = new Map<string, Record<string, string>>();
  const version = (number: number): Version => ({
    number,
    active: false,
    locked: false,
    service_id: SERVICE_ID,
  });
  const routes: [string, RegExp, (m: RegExpExecArray, form: Record<string, string>) => unknown][] =
    [
      ['GET', /^\/realms\/fastly\/\.well-known\/openid-configuration$/, () => ({})],
      [
        'POST',
        /^\/service$/,
        (_m, form) => {
          versions = [version(1)];
          return { id: SERVICE_ID, name: form.name, type: 'wasm', versions };
        },
      ],
      [
        'GET',
        /^\/service\/\w+\/details$/,
        () => {
          const active = versions.find((v) => v.active);
          return {
            id: SERVICE_ID,
            type: 'wasm',
            active_version: active,
            version: active,
            versions,
          };
        },
      ],
      ['GET', /^\/service\/\w+\/version$/, () => versions],
      [
        'PUT',
        /^\/service\/\w+\/version\/(\d+)\/clone$/,
        () => {
          const clone = version(versions.length + 1);
          versions.push(clone);
          return clone;
        },
      ],
      [
        'PUT',
        /^\/service\/\w+\/version\/(\d+)\/activate$/,
        (m) => {
          for (const v of versions) v.active = v.number === Number(m[1]);
          const active = versions.find((v) => v.active);
          if (active !== undefined) active.locked = true;
          return active;
        },
      ],
      ['GET', /^\/service\/\w+\/version\/\d+\/domain$/, () => []],
      [
        'POST',
        /^\/service\/\w+\/version\/(\d+)\/domain$/,
        (m, form) => ({ ...form, version: +`${m[1]}` }),
      ],
      [
        'POST',
        /^\/service\/\w+\/version\/(\d+)\/backend$/,
        (m, form) => {
          backends.set(`${m[1]}/${form.name}`, form);
          return { ...form, service_id: SERVICE_ID, version: Number(m[1]) };
        },
      ],
      [
        'PUT',
        /^\/service\/\w+\/version\/(\d+)\/backend\/(\w+)$/,
        (m, form) => {
          const backend = { ...backends.get(`1/${m[2]}`), ...form, name: `${m[2]}` };
          backends.set(`${m[1]}/${m[2]}`, backend);
          return { ...backend, service_id: SERVICE_ID, version: Number(m[1]) };
        },
      ],
      [
        'GET',
        /^\/service\/\w+\/version\/(\d+)\/backend\/(\w+)$/,
        (m) => ({
          ...backends.get(`${m[1]}/${m[2]}`),
          service_id: SERVICE_ID,
          version: Number(m[1]),
        }),
      ],
      ['PUT', /^\/service\/\w+\/version\/(\d+)\/package$/, () => ({ service_id: SERVICE_ID })],
      [
        'PUT',
        /^\/enabled-products\/v1\/fanout\/services\/\w+$/,
        () => ({ product: { id: 'fanout' } }),
      ],
    ];
  const answer = (method: string, path: string, form: Record<string, string>) => {
    for (const [routeMethod, pattern, respond] of routes) {
      const match = pattern.exec(path);
      if (method === routeMethod && match !== null) return respond(match, form);
    }
    return undefined;
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call = recordedCall(req, Buffer.concat(chunks));
      calls.push(call);
      const body = answer(call.method, call.path, call.form);
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { msg: 'not in the stand-in' }));
    });
  });
  return { server, calls };
}

describe("the runbook's Fastly CLI steps, against a local stand-in for Fastly's API", () => {
  let work: string | undefined;
  let api: ReturnType<typeof fakeFastlyApi> | undefined;
  let apiUrl = '';

  beforeAll(async () => {
    await ensureEdgeWasm();
    work = await mkdtemp(join(tmpdir(), 'deploy-api-'));
    api = fakeFastlyApi();
    apiUrl = await listen(api.server);
  }, 320_000);

  afterAll(async () => {
    await close(api?.server);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const apiEnv = (home: string, extra: Record<string, string> = {}) =>
    fastlyCliEnv(home, {
      FASTLY_API_ENDPOINT: apiUrl,
      FASTLY_ACCOUNT_ENDPOINT: apiUrl,
      FASTLY_API_TOKEN: 'a-token-for-the-stand-in',
      ...extra,
    });
  const callsSince = (count: number) =>
    (api?.calls.slice(count) ?? []).filter((call) => !call.path.startsWith('/realms/'));

  /** The first publish's deploy half (`compute publish` = `compute build`, then this). */
  async function firstDeploy(name: string, args: string[], input: string) {
    const dir = join(work ?? tmpdir(), name);
    const { pack, pkg } = await packProject(dir, await readRepoManifest());
    expect(pack.code, pack.stderr).toBe(0);
    const before = api?.calls.length ?? 0;
    const deploy = await run(
      FASTLY_CLI,
      ['compute', 'deploy', '--package', pkg, '--status-check-off', ...args],
      { cwd: dir, env: apiEnv(dir), input },
    );
    return { dir, deploy, calls: callsSince(before) };
  }

  it('step 1: the first publish asks what docs/deploy.md answers, creates the service with Fanout and a placeholder backend, and rewrites fastly.toml', async () => {
    // y, then Enter for the name, the domain, the backend's host and its port.
    const { dir, deploy, calls } = await firstDeploy('interactive', [], 'y\n\n\n\n\n');
    expect(deploy.code, deploy.stderr).toBe(0);
    let at = 0;
    for (const text of [
      'Create new service: [y/N]',
      'Service name: [grip-leaderboard-edge]',
      'Domain: [',
      "Configure a backend called 'origin'",
      'Hostname or IP address: [127.0.0.1]',
      'Port: [443]',
      'Fanout',
      `SUCCESS: Deployed package (service ${SERVICE_ID}, version 1)`,
    ]) {
      const found = deploy.stdout.indexOf(text, at);
      expect(found, `"${text}" after the previous prompt in:\n${deploy.stdout}`).toBeGreaterThan(
        -1,
      );
      at = found + text.length;
    }
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual(
      expect.arrayContaining([
        'POST /service',
        `POST /service/${SERVICE_ID}/version/1/backend`,
        `PUT /enabled-products/v1/fanout/services/${SERVICE_ID}`,
        `PUT /service/${SERVICE_ID}/version/1/package`,
        `PUT /service/${SERVICE_ID}/version/1/activate`,
      ]),
    );
    expect(calls.find((call) => call.path === '/service')?.form).toMatchObject({
      name: 'grip-leaderboard-edge',
      type: 'wasm',
    });
    // 127.0.0.1, and no TLS setting at all: step 4 is needed.
    expect(calls.find((call) => call.path.endsWith('/version/1/backend'))?.form).toEqual({
      name: 'origin',
      address: '127.0.0.1',
      port: '443',
    });
    expect(calls.every((call) => call.key === 'a-token-for-the-stand-in')).toBe(true);
    // The CLI wrote the id and re-encoded the file: the repository's comments are gone.
    const rewritten = await readFile(join(dir, 'fastly.toml'), 'utf8');
    expect(rewritten).toContain(`service_id = "${SERVICE_ID}"`);
    expect(rewritten).not.toContain('docs/deploy.md');
  });

  it('step 1 with --non-interactive: no question, and the backend is 127.0.0.1 as well', async () => {
    const { deploy, calls } = await firstDeploy('non-interactive', ['--non-interactive'], '');
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).not.toContain('Create new service');
    expect(calls.find((call) => call.path.endsWith('/version/1/backend'))?.form).toEqual({
      name: 'origin',
      address: '127.0.0.1',
      port: '443',
    });
  });

  it('step 4: deploy/fastly-point-backend.sh puts the origin behind TLS in a clone of the active version, and activates it', async () => {
    const home = join(work ?? tmpdir(), 'point-backend');
    await mkdir(home, { recursive: true });
    const before = api?.calls.length ?? 0;
    const host = 'origin.leaderboard.example';
    const result = await run('sh', [join(ROOT_DIR, 'deploy', 'fastly-point-backend.sh'), host], {
      env: apiEnv(home, { FASTLY_SERVICE_ID: SERVICE_ID }),
    });
    expect(result.code, result.stderr).toBe(0);
    const writes = callsSince(before).filter((call) => call.method !== 'GET');
    expect(writes.map((call) => `${call.method} ${call.path}`)).toEqual([
      `PUT /service/${SERVICE_ID}/version/1/clone`,
      `PUT /service/${SERVICE_ID}/version/2/backend/origin`,
      `PUT /service/${SERVICE_ID}/version/2/activate`,
    ]);
    expect(writes[1]?.form).toEqual({
      address: host,
      port: '443',
      use_ssl: '1',
      override_host: host,
      ssl_cert_hostname: host,
      ssl_sni_hostname: host,
    });
    expect(result.stdout).toContain(`Activated service ${SERVICE_ID} version 2`);
  });

  it('step 4 refuses to run without a service id', async () => {
    const home = join(work ?? tmpdir(), 'point-backend-no-id');
    await mkdir(home, { recursive: true });
    const result = await run('sh', [join(ROOT_DIR, 'deploy', 'fastly-point-backend.sh'), 'x'], {
      env: apiEnv(home),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('FASTLY_SERVICE_ID=<service-id>');
  });
});
