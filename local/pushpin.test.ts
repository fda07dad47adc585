import { describe, expect, it } from 'vitest';
import {
  detectPushpin,
  type PushpinOptions,
  parsePushpinVersion,
  pushpinConfig,
  pushpinLogLevelFromEnv,
} from './pushpin.ts';

const options: PushpinOptions = {
  dir: '/tmp/stack-1/pushpin',
  httpPort: 17999,
  publishPort: 15561,
  originPort: 13000,
  sigKey: 'local-secret_KEY-1',
};
const v136 = { major: 1, minor: 36, patch: 0 };
const v141 = { major: 1, minor: 41, patch: 0 };

// The config as a map of "section/key" to value, the way Pushpin reads it.
function settings(config: string): Map<string, string> {
  const map = new Map<string, string>();
  let section = '';
  for (const line of config.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header?.[1] !== undefined) section = header[1];
    else if (line !== '' && !line.startsWith('#')) {
      const at = line.indexOf('=');
      const key = `${section}/${line.slice(0, at)}`;
      expect(map.has(key), `${key} is set twice`).toBe(false);
      map.set(key, line.slice(at + 1));
    }
  }
  return map;
}

describe('parsePushpinVersion', () => {
  it('reads the version Pushpin prints', () => {
    expect(parsePushpinVersion('pushpin 1.36.0\n')).toEqual(v136);
    expect(parsePushpinVersion('pushpin 1.41.2')).toEqual({ major: 1, minor: 41, patch: 2 });
  });

  it('refuses output without a version', () => {
    expect(() => parsePushpinVersion('command not found')).toThrow(/Pushpin version/);
  });
});

describe('pushpinConfig for Pushpin 1.36 (Debian)', () => {
  const { config, routes } = pushpinConfig(options, v136);
  const conf = settings(config);

  it('runs its own zurl beside condure, with Debian internal.conf', () => {
    expect(conf.get('global/include')).toBe('/usr/lib/pushpin/internal.conf');
    expect(conf.get('runner/services')).toBe('condure,zurl,pushpin-proxy,pushpin-handler');
  });

  it('points the proxy at its own zurl, first thing in [proxy]', () => {
    const proxy = config.slice(config.indexOf('[proxy]')).split('\n');
    expect(proxy.slice(1, 4)).toEqual([
      'zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in',
      'zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream',
      'zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out',
    ]);
  });

  it('keeps every file inside dir', () => {
    expect(conf.get('global/rundir')).toBe('/tmp/stack-1/pushpin/run');
    expect(conf.get('runner/logdir')).toBe('/tmp/stack-1/pushpin/log');
    expect(conf.get('proxy/routesfile')).toBe('/tmp/stack-1/pushpin/routes');
  });

  it('opens only the two configured TCP ports, on loopback', () => {
    expect(conf.get('runner/http_port')).toBe('127.0.0.1:17999');
    expect(conf.get('handler/push_in_http_addr')).toBe('127.0.0.1');
    expect(conf.get('handler/push_in_http_port')).toBe('15561');
    const tcp = [...conf.entries()].filter(([, value]) => value.includes('tcp://'));
    expect(tcp).toEqual([]);
    for (const key of ['push_in_spec', 'push_in_sub_specs', 'stats_spec', 'command_spec']) {
      expect(conf.get(`handler/${key}`)).toMatch(/^ipc:\/\/\{rundir\}\//);
    }
  });

  it('signs requests with our key as pushpin and accepts Pushpin-Route', () => {
    expect(conf.get('proxy/sig_key')).toBe('local-secret_KEY-1');
    expect(conf.get('proxy/sig_iss')).toBe('pushpin');
    expect(conf.get('proxy/accept_pushpin_route')).toBe('true');
    expect(conf.get('proxy/updates_check')).toBe('off');
  });

  it('logs warnings and errors only: no line per request', () => {
    expect(conf.get('runner/log_level')).toBe('1');
  });

  it('sets the publish endpoint limits under the names Pushpin 1.36 reads', () => {
    expect(conf.get('handler/push_in_max_headers_size')).toBe('10000');
    expect(conf.get('handler/push_in_max_body_size')).toBe('65536');
    expect(config).not.toContain('push_in_http_max');
  });

  it('keeps condure at 8 KB per request head and 50,000 connections', () => {
    expect(conf.get('runner/client_buffer_size')).toBe('8192');
    expect(conf.get('runner/client_maxconn')).toBe('50000');
  });

  it('sizes delivery limits for 10,000 subscribers', () => {
    expect(Number(conf.get('handler/message_rate'))).toBeGreaterThanOrEqual(10_000);
    expect(Number(conf.get('handler/message_hwm'))).toBeGreaterThanOrEqual(100_000);
  });

  it("caps a published message at Fanout's 64 KiB, as the Fastly CLI's local Pushpin does", () => {
    // Pushpin 1.36 reads `push_in_max_body_size` (and ignores the stock config's other name).
    expect(conf.get('handler/push_in_max_body_size')).toBe('65536');
  });

  it('routes everything, and Pushpin-Route: origin, to the origin', () => {
    const lines = routes.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toEqual(['* 127.0.0.1:13000', 'id=origin 127.0.0.1:13000,over_http']);
  });
});

describe('pushpinConfig for Pushpin >= 1.40', () => {
  const { config } = pushpinConfig(options, v141);
  const conf = settings(config);

  it('uses the connmgr service names and the built-in internal.conf', () => {
    expect(conf.get('runner/services')).toBe('connmgr,proxy,handler');
    expect(conf.get('global/include')).toBe('{libdir}/internal.conf');
    expect(config).not.toContain('zurl');
  });

  it('names the publish endpoint limits with _http_, as Pushpin >= 1.40 reads them', () => {
    expect(conf.get('handler/push_in_http_max_headers_size')).toBe('10000');
    expect(conf.get('handler/push_in_http_max_body_size')).toBe('65536');
  });
});

describe('pushpinConfig options', () => {
  it('takes the origin host, issuer and delivery limits', () => {
    const { config, routes } = pushpinConfig(
      { ...options, originHost: 'localhost', sigIss: 'other', messageRate: 7, messageHwm: 70 },
      v136,
    );
    const conf = settings(config);
    expect(routes).toContain('* localhost:13000\n');
    expect(conf.get('proxy/sig_iss')).toBe('other');
    expect(conf.get('handler/message_rate')).toBe('7');
    expect(conf.get('handler/message_hwm')).toBe('70');
  });

  it('takes a log level', () => {
    expect(
      settings(pushpinConfig({ ...options, logLevel: 3 }, v136).config).get('runner/log_level'),
    ).toBe('3');
  });

  it('adds a route for the readiness probe, taken only by its id, after the others', () => {
    const probeRoute = { id: 'ready-0123abcd', port: 14000 };
    const { routes } = pushpinConfig({ ...options, probeRoute }, v136);
    const lines = routes.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toEqual([
      '* 127.0.0.1:13000',
      'id=origin 127.0.0.1:13000,over_http',
      'id=ready-0123abcd 127.0.0.1:14000',
    ]);
  });

  it('lists several origins as space-separated targets of one route, in the order given', () => {
    const { routes } = pushpinConfig({ ...options, fallbackOriginPorts: [13001, 13002] }, v136);
    const lines = routes.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toEqual([
      '* 127.0.0.1:13000 127.0.0.1:13001 127.0.0.1:13002',
      'id=origin 127.0.0.1:13000,over_http 127.0.0.1:13001,over_http 127.0.0.1:13002,over_http',
      'id=origin-0 127.0.0.1:13000',
      'id=origin-1 127.0.0.1:13001',
      'id=origin-2 127.0.0.1:13002',
    ]);
  });

  it('refuses origin ports that repeat or are not ports', () => {
    expect(() => pushpinConfig({ ...options, fallbackOriginPorts: [13000] }, v136)).toThrow(
      /origin ports repeat: 13000, 13000/,
    );
    expect(() => pushpinConfig({ ...options, fallbackOriginPorts: [70_000] }, v136)).toThrow(
      /fallbackOriginPorts\[0\] must be a TCP port/,
    );
  });

  it('writes a key with INI-special characters as base64', () => {
    const key = 'a,b;c "d"';
    const conf = settings(pushpinConfig({ ...options, sigKey: key }, v136).config);
    expect(conf.get('proxy/sig_key')).toBe(`base64:${Buffer.from(key).toString('base64')}`);
  });

  it('refuses what Pushpin would misread', () => {
    expect(() => pushpinConfig({ ...options, dir: 'relative' }, v136)).toThrow(/absolute/);
    expect(() => pushpinConfig({ ...options, httpPort: 0 }, v136)).toThrow(/httpPort/);
    expect(() => pushpinConfig({ ...options, publishPort: 17999 }, v136)).toThrow(/both/);
    expect(() => pushpinConfig({ ...options, sigKey: '' }, v136)).toThrow(/sigKey/);
    expect(() => pushpinConfig({ ...options, logLevel: -1 }, v136)).toThrow(/logLevel/);
    expect(() => pushpinConfig({ ...options, logLevel: 1.5 }, v136)).toThrow(/logLevel/);
    const probeRoute = { id: 'x 1.2.3.4:80', port: 14000 };
    expect(() => pushpinConfig({ ...options, probeRoute }, v136)).toThrow(/probeRoute id/);
    const noPort = { id: 'ready', port: 0 };
    expect(() => pushpinConfig({ ...options, probeRoute: noPort }, v136)).toThrow(/probePort/);
    expect(() => pushpinConfig({ ...options, dir: `/tmp/${'x'.repeat(90)}` }, v136)).toThrow(
      /too long/,
    );
  });

  it('is pure', () => {
    expect(pushpinConfig(options, v136)).toEqual(pushpinConfig(options, v136));
  });
});

describe('pushpinLogLevelFromEnv', () => {
  it('reads PUSHPIN_LOG_LEVEL, or nothing when it is unset or empty', () => {
    expect(pushpinLogLevelFromEnv({ PUSHPIN_LOG_LEVEL: '2' })).toBe(2);
    expect(pushpinLogLevelFromEnv({ PUSHPIN_LOG_LEVEL: '0' })).toBe(0);
    expect(pushpinLogLevelFromEnv({})).toBeUndefined();
    expect(pushpinLogLevelFromEnv({ PUSHPIN_LOG_LEVEL: '' })).toBeUndefined();
  });

  it('refuses what is not a level, saying which ones are', () => {
    for (const raw of ['debug', '-1', '2.5', '9', ' 2']) {
      expect(() => pushpinLogLevelFromEnv({ PUSHPIN_LOG_LEVEL: raw })).toThrow(
        /PUSHPIN_LOG_LEVEL=.* is not a Pushpin log level: use 0 to 5/,
      );
    }
  });
});

describe('detectPushpin', () => {
  it('says how to install Pushpin when there is none', async () => {
    await expect(detectPushpin('no-such-pushpin-here')).rejects.toThrow(
      /not installed[\s\S]*apt-get install -y pushpin[\s\S]*brew install pushpin/,
    );
  });
});
