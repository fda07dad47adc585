import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BackupIo, runBackupCommand, USAGE } from './backup-client.ts';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from './test-origin.ts';

// The backup commands against a real origin, with their files kept in memory. On every store
// (vitest.config.ts).
const STORE = storeUnderTest();

let origin: TestOrigin;
let files: Map<string, string>;
let said: string[];
beforeEach(async () => {
  origin = await startTestOrigin(STORE);
  files = new Map();
  said = [];
});
afterEach(() => origin.close());

function io(env: Record<string, string> = { ADMIN_TOKEN, ORIGIN_URL: origin.url }): BackupIo {
  return {
    env,
    fetch,
    readFile: async (path) => {
      const text = files.get(path);
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    createFile: async (path, text) => {
      if (files.has(path)) throw new Error(`EEXIST: file already exists, open '${path}'`);
      files.set(path, text);
    },
    say: (line) => said.push(line),
  };
}

const scores = async () =>
  JSON.parse((await origin.send('/boards/demo/')).text).players.map(
    (p: { id: string; score: number }) => [p.id, p.score],
  );

describe('npm run backup, then npm run restore', () => {
  it('writes the database to a new file, and puts it back', async () => {
    expect(await runBackupCommand(['backup', '--out', 'b.json'], io())).toBe(0);
    expect(said).toEqual([expect.stringMatching(/^wrote b\.json: 1 boards, 5 players, taken /)]);
    const before = await scores();
    await origin.send('/boards/demo/players/p1/score-add/', { method: 'POST' });
    expect(await scores()).not.toEqual(before);
    expect(await runBackupCommand(['restore', 'b.json'], io())).toBe(0);
    expect(said[1]).toMatch(/^restored 1 boards, 5 players, taken .* \(1 boards there now\)$/);
    expect(await scores()).toEqual(before);
  });

  it('names the file after the time of the backup, and never overwrites one', async () => {
    expect(await runBackupCommand(['backup'], io())).toBe(0);
    const [name] = [...files.keys()];
    expect(name).toMatch(/^leaderboard-backup-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.json$/);
    expect(await runBackupCommand(['backup', '--out', String(name)], io())).toBe(1);
    expect(said.at(-1)).toMatch(/^cannot write .*EEXIST/);
  });

  it('reads the token from a file when ADMIN_TOKEN is not set (data/admin-token by default)', async () => {
    files.set('data/admin-token', `${ADMIN_TOKEN}\n`);
    expect(
      await runBackupCommand(['backup', '--out', 'x.json'], io({ ORIGIN_URL: origin.url })),
    ).toBe(0);
    files.set('elsewhere', ADMIN_TOKEN);
    const args = ['backup', '--out', 'y.json', '--token-file', 'elsewhere', '--url', origin.url];
    expect(await runBackupCommand(args, io({}))).toBe(0);
  });
});

describe('what the commands refuse', () => {
  it.each([
    [[], 2],
    [['backup', 'extra'], 2],
    [['restore'], 2],
    [['backup', '--token', ADMIN_TOKEN], 2],
    [['dump'], 2],
  ])('%j is wrong usage (exit %i), and the token is never an option', async (args, code) => {
    expect(await runBackupCommand(args, io())).toBe(code);
    expect(said).toEqual([USAGE]);
  });

  it('says what the origin answered when it refuses the token', async () => {
    const env = { ADMIN_TOKEN: 'wrong-token-0123456789', ORIGIN_URL: origin.url };
    expect(await runBackupCommand(['backup', '--out', 'z.json'], io(env))).toBe(1);
    expect(said).toEqual([
      `${origin.url} refused (403 forbidden: the admin token is not valid); nothing was changed`,
    ]);
    expect(files.size).toBe(0);
  });

  it('says there is no token, and where it looked', async () => {
    expect(await runBackupCommand(['backup'], io({ ORIGIN_URL: origin.url }))).toBe(1);
    expect(said).toEqual([
      'no admin token: set ADMIN_TOKEN, or give --token-file (data/admin-token could not be read)',
    ]);
  });

  it('refuses a file that is not a backup before sending anything', async () => {
    const before = await origin.snapshot();
    files.set('bad.json', JSON.stringify({ format: 'something else' }));
    files.set('text.json', 'not json');
    expect(await runBackupCommand(['restore', 'bad.json'], io())).toBe(1);
    expect(await runBackupCommand(['restore', 'text.json'], io())).toBe(1);
    expect(await runBackupCommand(['restore', 'missing.json'], io())).toBe(1);
    expect(said).toEqual([
      expect.stringMatching(
        /^bad\.json is not a backup this origin reads \(format: .*\); nothing was sent$/,
      ),
      expect.stringMatching(/^cannot read text\.json: .*JSON.*; nothing was sent$/),
      expect.stringMatching(/^cannot read missing\.json: ENOENT.*; nothing was sent$/),
    ]);
    expect(await origin.snapshot()).toStrictEqual(before);
  });

  it('says when the origin cannot be reached', async () => {
    const env = { ADMIN_TOKEN, ORIGIN_URL: 'http://127.0.0.1:9' };
    expect(await runBackupCommand(['backup'], io(env))).toBe(1);
    expect(said).toEqual([expect.stringMatching(/^cannot reach http:\/\/127\.0\.0\.1:9: /)]);
  });
});
