import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, logSettingsOf } from './config.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  GRIP_URL: 'https://api.fastly.com/service/SU1Z0isxPaozGVKXdv0eY',
  GRIP_KEY: 'fastly-api-token-0123456789',
  GRIP_VERIFY_KEY:
    '{"kty":"EC","crv":"P-256","x":"CKo5A1ebyFcnmVV8SE5On-8G81JyBjSvcrx4VLetWCg","y":"7gwJqaU6N8TP88--twjkwoB36f-pT3QsmI46nPhjO7M"}',
  GRIP_VERIFY_ISS: 'fastly:SU1Z0isxPaozGVKXdv0eY',
  ADMIN_TOKEN: 'k3Jv9pQ2xW7mN4bR8tY1zL6cH5dF0gAs',
};

const refused = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
};

describe('outside production', () => {
  it('starts with safe defaults and no secrets given', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      production: false,
      host: '127.0.0.1',
      gripVerifyKey: undefined, // main.ts creates the key file beside the data file
      gripVerifyIss: 'pushpin',
      adminToken: undefined, // likewise the admin token
      trustProxy: 'loopback',
      corsOrigins: [],
      frameAncestors: "'self'",
      maxBoards: 100,
      maxPlayersPerBoard: 1_000_000,
      scoreRatePerSecond: 10,
      scoreBurst: 30,
    });
  });
});

describe('in production (NODE_ENV=production)', () => {
  it('starts with a Fastly GRIP_URL, its token, the verify key, its issuer and an admin token', () => {
    expect(loadConfig(PRODUCTION)).toMatchObject({
      production: true,
      gripUrl: 'https://api.fastly.com/service/SU1Z0isxPaozGVKXdv0eY',
      gripKey: PRODUCTION.GRIP_KEY,
      gripVerifyIss: PRODUCTION.GRIP_VERIFY_ISS,
    });
  });

  it.each([
    ['GRIP_URL', /GRIP_URL is required when NODE_ENV=production.*api\.fastly\.com\/service/s],
    ['GRIP_KEY', /GRIP_KEY is required.*Fastly API token/s],
    ['GRIP_VERIFY_KEY', /GRIP_VERIFY_KEY is required.*Fastly's public key.*GRIP_VERIFY_ISS/s],
    ['GRIP_VERIFY_ISS', /GRIP_VERIFY_ISS is required.*fastly:<service-id>/s],
    ['ADMIN_TOKEN', /ADMIN_TOKEN is required.*generate one with/s],
  ])('refuses to start without %s, and says how to fix it', (name, message) => {
    const env: Record<string, string> = { ...PRODUCTION };
    delete env[name];
    expect(refused(env)).toMatch(message);
  });

  it("refuses the Fastly CLI's published local signing key", () => {
    expect(
      refused({
        ...PRODUCTION,
        GRIP_URL: 'https://pushpin.internal.example/',
        GRIP_VERIFY_ISS: 'pushpin',
        GRIP_VERIFY_KEY: 'viceroy_dev_signing_key_dont_use_in_production',
      }),
    ).toMatch(/GRIP_VERIFY_KEY is the Fastly CLI's published local signing key/);
  });

  it('lists every problem at once, one a line', () => {
    const message = refused({ NODE_ENV: 'production' });
    for (const name of ['GRIP_URL', 'GRIP_VERIFY_KEY', 'GRIP_VERIFY_ISS', 'ADMIN_TOKEN']) {
      expect(message).toMatch(new RegExp(`\\n  ${name} is required`));
    }
  });

  it('refuses to start as a process: exit code 1 and the reasons logged as one fatal JSON line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'origin-config-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'origin/main.ts'], {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          DATA_FILE: join(dir, 'leaderboard.json'),
          PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      const code = await new Promise((resolve) => child.on('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toBe('');
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines).toStrictEqual([
        expect.objectContaining({
          level: 60,
          msg: expect.stringMatching(
            /^invalid configuration:\n.*GRIP_VERIFY_KEY is required when NODE_ENV=production/s,
          ),
        }),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('numbers', () => {
  const variables = [
    'PORT',
    'PUBLISH_INTERVAL_MS',
    'PUBLISH_PAGES_PER_FLUSH',
    'RELOAD_SPREAD_MS',
    'KEEP_ALIVE_SECONDS',
    'MAX_BOARDS',
    'MAX_PLAYERS_PER_BOARD',
    'SCORE_RATE_PER_SECOND',
    'SCORE_BURST',
  ];
  const notWhole = ['abc', '-1', '1.5', '1e3', '0x10', ' 8', '8 ', '+8', 'Infinity', 'NaN'];
  it.each(variables.flatMap((name) => notWhole.map((value) => [name, value])))(
    '%s=%j is refused, naming the variable',
    (name, value) => {
      expect(refused({ [name]: value })).toMatch(new RegExp(`${name}: `));
    },
  );

  it.each([
    ['PORT', '65536'],
    ['PUBLISH_INTERVAL_MS', '60001'],
    ['PUBLISH_PAGES_PER_FLUSH', '0'],
    ['RELOAD_SPREAD_MS', '600001'],
    ['KEEP_ALIVE_SECONDS', '0'],
    ['KEEP_ALIVE_SECONDS', '3601'],
    ['MAX_BOARDS', '0'],
    ['MAX_PLAYERS_PER_BOARD', '0'],
    ['MAX_PLAYERS_PER_BOARD', '99999999999999999999'],
    ['MAX_PLAYERS_PER_BOARD', '10000001'],
    ['SCORE_RATE_PER_SECOND', '0'],
    ['SCORE_BURST', '0'],
  ])('%s=%s is out of range', (name, value) => {
    expect(refused({ [name]: value })).toMatch(new RegExp(`${name}: `));
  });

  it('an empty variable counts as unset', () => {
    expect(loadConfig({ PORT: '', MAX_BOARDS: '' })).toMatchObject({ port: 3000, maxBoards: 100 });
  });
});

describe('secrets', () => {
  it.each([
    ['GRIP_VERIFY_KEY', 'changeme'],
    ['GRIP_VERIFY_KEY', 'short-key'],
    ['ADMIN_TOKEN', 'short-token'],
    ['ADMIN_TOKEN', 'a token with spaces in it'],
    ['ADMIN_TOKEN', 'tøken-with-non-ascii-letters'],
    ['ADMIN_TOKEN', 'x'.repeat(513)],
  ])('%s=%j is refused', (name, value) => {
    expect(refused({ [name]: value })).toMatch(new RegExp(`${name}: `));
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    'loopback',
    'loopback, 10.0.0.0/8',
    'uniquelocal,linklocal',
    '203.0.113.1',
    '10.0.0.0/255.0.0.0',
    '2001:db8::/32',
    '::1',
    'loopback, linklocal, uniquelocal, 198.51.100.0/24, 2001:db8::1',
  ])('%j is accepted, and Express accepts it too', (value) => {
    const config = loadConfig({ TRUST_PROXY: value });
    expect(() => express().set('trust proxy', config.trustProxy)).not.toThrow();
  });

  it.each(['true', '*', '1', 'nonsense', '10.0.0.0/33', '203.0.113', 'loopback,,'])(
    '%j is refused with a message that names the variable',
    (value) => {
      expect(refused({ TRUST_PROXY: value })).toMatch(/TRUST_PROXY: /);
    },
  );

  it.each([
    ['true', /invalid IP address: true/],
    ['1', /"1" is a hop count, not an address/],
    ['loopback, 10.0.0.0/33', /invalid range on address: 10\.0\.0\.0\/33/],
  ])('%j is refused saying which entry is wrong', (value, message) => {
    expect(refused({ TRUST_PROXY: value })).toMatch(message);
  });

  it.each([
    ['loopback', '127.0.0.1', true],
    ['loopback', '::1', true],
    ['loopback', '10.0.0.1', false],
    ['10.0.0.0/8, uniquelocal', '10.200.0.1', true],
    ['10.0.0.0/8, uniquelocal', 'fd00::1', true],
    ['10.0.0.0/8, uniquelocal', '11.0.0.1', false],
    ['203.0.113.0/255.255.255.0', '203.0.113.9', true],
  ])('%j trusts %s: %s', (value, address, trusted) => {
    const app = express().set('trust proxy', loadConfig({ TRUST_PROXY: value }).trustProxy);
    const trust: (address: string, hop: number) => boolean = app.get('trust proxy fn');
    expect(trust(address, 0)).toBe(trusted);
  });
});

describe('CORS_ORIGINS', () => {
  it('is a list of origins', () => {
    expect(
      loadConfig({ CORS_ORIGINS: 'https://app.example, http://localhost:5173' }).corsOrigins,
    ).toEqual(['https://app.example', 'http://localhost:5173']);
  });

  it.each([
    '*',
    'https://app.example/',
    'https://app.example/path',
    'app.example',
    'ftp://x.example',
  ])('%j is refused (an origin is scheme://host[:port], as the browser sends it)', (value) => {
    expect(refused({ CORS_ORIGINS: value })).toMatch(/CORS_ORIGINS: /);
  });
});

describe('FRAME_ANCESTORS', () => {
  it.each(["'self'", "'none'", "'self' https://embed.example https://*.example.org"])(
    '%j is accepted',
    (value) => {
      expect(loadConfig({ FRAME_ANCESTORS: value }).frameAncestors).toBe(value);
    },
  );

  it.each(["'self'; script-src *", "'self', https://x.example", "'self'\nX-Injected: 1"])(
    '%j is refused (it would change the policy or break every response)',
    (value) => {
      expect(refused({ FRAME_ANCESTORS: value })).toMatch(/FRAME_ANCESTORS: /);
    },
  );
});

describe('GRIP_URL', () => {
  it.each(['ftp://127.0.0.1:5561/', 'not a url'])('%j is refused', (value) => {
    expect(refused({ GRIP_URL: value })).toMatch(/GRIP_URL: /);
  });
});

describe('logging, metrics and restore', () => {
  it('log JSON at info, serve no metrics, and read restores of up to 64 MB by default', () => {
    expect(loadConfig({})).toMatchObject({
      logLevel: 'info',
      logFormat: 'json',
      metrics: undefined,
      restoreMaxBytes: 64 * 1024 * 1024,
    });
  });

  it('serve metrics on loopback unless told otherwise', () => {
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({
      port: 9464,
      host: '0.0.0.0',
    });
  });

  it.each([
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'xml'],
    ['METRICS_PORT', '0'],
    ['METRICS_PORT', 'x'],
    ['RESTORE_MAX_MB', '0'],
  ])('%s=%s is refused, naming the variable', (name, value) => {
    expect(refused({ [name]: value })).toMatch(new RegExp(`${name}: `));
  });

  it('refuses metrics on the port the API is served on', () => {
    expect(refused({ PORT: '3000', METRICS_PORT: '3000' })).toMatch(/METRICS_PORT and PORT/);
  });

  it('reads the log settings leniently, so the refusal of a bad one can itself be logged', () => {
    expect(logSettingsOf({ LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty' })).toEqual({
      level: 'debug',
      format: 'pretty',
    });
    expect(logSettingsOf({ LOG_LEVEL: 'loud', LOG_FORMAT: 'xml' })).toEqual({
      level: 'info',
      format: 'json',
    });
  });
});
