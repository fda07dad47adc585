import { describe, expect, it } from 'vitest';
import {
  detectRedis,
  parseClusterNodes,
  parseInfo,
  parseRedisVersion,
  redisCommand,
  redisConfig,
} from './redis.ts';

// The config as a map of directive to its arguments, the way redis-server reads it.
function directives(config: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of config.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf(' ');
    const name = line.slice(0, at);
    expect(map.has(name), `${name} is set twice`).toBe(false);
    map.set(name, line.slice(at + 1));
  }
  return map;
}

describe('redisConfig', () => {
  const conf = directives(redisConfig({ port: 16379, dir: '/tmp/stack-1/redis' }));

  it('listens on loopback only, on its port, in the foreground', () => {
    expect(conf.get('bind')).toBe('127.0.0.1');
    expect(conf.get('protected-mode')).toBe('yes');
    expect(conf.get('port')).toBe('16379');
    expect(conf.get('daemonize')).toBe('no');
  });

  it('answers a write only once it is fsynced to the append-only file, and keeps no RDB', () => {
    expect(conf.get('appendonly')).toBe('yes');
    expect(conf.get('appendfsync')).toBe('always');
    expect(conf.get('save')).toBe('""');
  });

  it('keeps its files in its dir and logs to stdout', () => {
    expect(conf.get('dir')).toBe('"/tmp/stack-1/redis"');
    expect(conf.get('logfile')).toBe('""');
  });

  it('is not a cluster node unless asked', () => {
    expect([...conf.keys()].filter((name) => name.startsWith('cluster-'))).toEqual([]);
  });

  it('makes a cluster node with its own bus port and node timeout', () => {
    const node = directives(
      redisConfig({
        port: 16379,
        dir: '/tmp/c/node-1',
        cluster: { busPort: 26001, nodeTimeoutMs: 1500 },
      }),
    );
    expect(node.get('cluster-enabled')).toBe('yes');
    expect(node.get('cluster-config-file')).toBe('nodes.conf');
    expect(node.get('cluster-node-timeout')).toBe('1500');
    expect(node.get('cluster-port')).toBe('26001');
  });

  it('quotes a dir with quotes and backslashes', () => {
    const quoted = directives(redisConfig({ port: 16379, dir: '/tmp/a "b"\\c' })).get('dir');
    expect(quoted).toBe('"/tmp/a \\"b\\"\\\\c"');
  });

  it('refuses what redis-server would misread', () => {
    expect(() => redisConfig({ port: 0, dir: '/tmp/r' })).toThrow(/port must be a TCP port/);
    expect(() => redisConfig({ port: 16379, dir: 'relative' })).toThrow(/absolute/);
    expect(() => redisConfig({ port: 16379, dir: '/tmp/a\nport 1' })).toThrow(/control/);
    const cluster = { busPort: 16379, nodeTimeoutMs: 1000 };
    expect(() => redisConfig({ port: 16379, dir: '/tmp/r', cluster })).toThrow(/both 16379/);
    const fast = { busPort: 26379, nodeTimeoutMs: 10 };
    expect(() => redisConfig({ port: 16379, dir: '/tmp/r', cluster: fast })).toThrow(
      /nodeTimeoutMs/,
    );
  });
});

describe('parseRedisVersion', () => {
  it('reads what redis-server --version prints', () => {
    expect(parseRedisVersion('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0')).toEqual(
      {
        major: 7,
        minor: 0,
        patch: 15,
      },
    );
    expect(() => parseRedisVersion('command not found')).toThrow(/Redis version/);
  });
});

describe('detectRedis', () => {
  it('says how to install Redis when there is none', async () => {
    await expect(detectRedis('no-such-redis-server-here')).rejects.toThrow(
      /not installed[\s\S]*apt-get install -y redis-server[\s\S]*brew install redis/,
    );
  });
});

describe('parseClusterNodes', () => {
  // As Redis 7.0 prints it, after the master on 7001 failed and 7005 took over its slots.
  const text = [
    '9031 127.0.0.1:7003@17003 master - 0 1700000000742 3 connected 10923-16383',
    '411b 127.0.0.1:7002@17002 myself,master - 0 1700000000000 2 connected 5461-10922 [5460-<-d5b2]',
    '6452 127.0.0.1:7005@17005 master - 0 1700000000136 7 connected 0-5460',
    '3aca 127.0.0.1:7004@17004,host-4 slave 9031 0 1700000000136 3 connected',
    'd5b2 127.0.0.1:7001@17001 master,fail - 1700000000015 1700000000000 1 disconnected',
    '',
  ].join('\n');
  const nodes = parseClusterNodes(text);

  it('reads each node: address, role, master, failing, slots', () => {
    expect(nodes.map((n) => [n.port, n.role, n.failing, n.myself])).toEqual([
      [7003, 'master', false, false],
      [7002, 'master', false, true],
      [7005, 'master', false, false],
      [7004, 'replica', false, false],
      [7001, 'master', true, false],
    ]);
    expect(nodes[3]).toMatchObject({ host: '127.0.0.1', masterId: '9031', slots: [] });
    expect(nodes[0]?.slots).toEqual([[10923, 16383]]);
  });

  it('leaves out slots being imported or migrated', () => {
    expect(nodes[1]?.slots).toEqual([[5461, 10922]]);
  });
});

describe('parseInfo', () => {
  it('reads key:value lines and skips sections', () => {
    const info = parseInfo('# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n');
    expect(info.get('role')).toBe('slave');
    expect(info.get('master_link_status')).toBe('up');
    expect(info.has('# Replication')).toBe(false);
  });
});

describe('redisCommand', () => {
  it('names the port when nothing answers there', async () => {
    await expect(redisCommand(1, ['PING'], 1_000)).rejects.toThrow(/127\.0\.0\.1:1 \(PING\)/);
  });
});
