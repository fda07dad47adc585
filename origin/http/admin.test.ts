import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Backup, backupSchema } from '../../contract/backup.ts';
import { type BoardView, boardListSchema } from '../../contract/board.ts';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from '../test-origin.ts';

// Backup and restore against a real origin with its durable store: a round trip gives back what
// was backed up, is durable and is published to viewers; a bad backup is refused with what is
// stored, every board and the publisher untouched. On every store (vitest.config.ts).
const STORE = storeUnderTest();

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const JSON_ADMIN = { ...ADMIN, 'content-type': 'application/json' };

let origin: TestOrigin;
beforeEach(async () => {
  origin = await startTestOrigin({ ...STORE, env: { MAX_BOARDS: '3', RESTORE_MAX_MB: '1' } });
});
afterEach(() => origin.close());

const backup = async (): Promise<Backup> => {
  const reply = await origin.send('/admin/backup/', { headers: ADMIN });
  expect(reply.status).toBe(200);
  return backupSchema.parse(JSON.parse(reply.text));
};
const restore = (body: unknown, headers: Record<string, string> = JSON_ADMIN) =>
  origin.send('/admin/restore/', {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const post = (path: string, body: unknown) =>
  origin.send(path, { method: 'POST', headers: JSON_ADMIN, body: JSON.stringify(body) });
const view = async (boardId: string): Promise<BoardView> =>
  JSON.parse((await origin.send(`/boards/${boardId}/`)).text);
/** A board as viewers see it, but for its version (a restore moves versions on). */
const content = ({ version: _, ...rest }: BoardView) => rest;

/** Changes a little of everything: scores, a new player, a new board, a deleted one. */
async function changeEverything(): Promise<string> {
  await post('/boards/demo/players/p1/score-add/', { amount: 7 });
  await post('/boards/demo/players/', { name: 'Newcomer' });
  const created = JSON.parse((await post('/boards/', { name: 'Created later' })).text).id;
  return created;
}

describe('GET /admin/backup/', () => {
  it('is the whole database as JSON with a format version, as a download', async () => {
    const reply = await origin.send('/admin/backup/', { headers: ADMIN });
    expect(reply.headers['content-disposition']).toMatch(
      /^attachment; filename="leaderboard-backup-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    expect(reply.headers['cache-control']).toBe('no-store');
    const body = backupSchema.parse(JSON.parse(reply.text));
    expect(body).toMatchObject({ format: 'grip-leaderboard-backup', version: 1 });
    expect(body.boards.map((b) => [b.id, b.players.length])).toEqual([['demo', 5]]);
  });
});

describe('POST /admin/restore/', () => {
  it('round-trips: backup, change, restore, and the boards are what was backed up', async () => {
    const saved = await backup();
    const before = await view('demo');
    const created = await changeEverything();
    expect(content(await view('demo'))).not.toEqual(content(before));

    const reply = await restore(saved);
    expect(reply.status).toBe(200);
    expect(boardListSchema.parse(JSON.parse(reply.text))).toEqual({
      boards: [{ id: 'demo', name: 'Demo board', order: 'desc', operator: 'incr', playerCount: 5 }],
    });
    const after = await view('demo');
    expect(content(after)).toEqual(content(before));
    expect(after.version).toBeGreaterThan(before.version + 2);
    expect((await origin.send(`/boards/${created}/`)).status).toBe(404);
    const again = await backup();
    expect(again.boards.map(({ version: _, ...board }) => board)).toEqual(
      saved.boards.map(({ version: _, ...board }) => board),
    );
  });

  it('is durable: what a fresh start reads (the data file and journal, or Redis) is the restored database', async () => {
    const saved = await backup();
    await changeEverything();
    await restore(saved);
    const reopened = await origin.reopen();
    expect(reopened).toEqual(JSON.parse((await origin.snapshot()).memory));
    expect(Object.keys(reopened.boards)).toEqual(['demo']);
  });

  it('tells viewers of the restored boards to reload, and those of deleted ones that they are gone', async () => {
    const saved = await backup();
    const created = await changeEverything();
    await origin.settled();
    const published = origin.published.length;
    await restore(saved);
    await vi.waitFor(() => expect(origin.published.length).toBe(published + 2));
    const items = origin.published
      .slice(published)
      .map(
        (body) => (body as { items: { channel: string; id: string; formats: unknown }[] }).items[0],
      );
    const events = items.map((item) => [
      item?.channel,
      /^event: (\w+)/.exec(JSON.stringify(item?.formats).replace(/^.*"content":"/, ''))?.[1],
    ]);
    expect(events).toEqual(
      expect.arrayContaining([
        [`board-${created}`, 'deleted'],
        ['board-demo', 'reload'],
      ]),
    );
    const demo = items.find((item) => item?.channel === 'board-demo');
    expect(Number(demo?.id)).toBe((await view('demo')).version);
  });

  it('restores into an empty database, and an empty backup empties it', async () => {
    const saved = await backup();
    const empty = { ...saved, boards: [] };
    expect((await restore(empty)).status).toBe(200);
    expect(JSON.parse((await origin.send('/boards/')).text)).toEqual({ boards: [] });
    expect((await restore(saved)).status).toBe(200);
    expect((await view('demo')).playerCount).toBe(5);
  });
});

/** The clock of the origin `seasonedBoard` starts. */
let now = 0;

/**
 * Starts the origin again on a clock the test moves and makes a board with everything a backup
 * carries: an operator, a schedule, the season under way (3), two past seasons, players with and
 * without external keys (made by score batches, as a game server makes them).
 */
async function seasonedBoard(): Promise<string> {
  await origin.close();
  now = Date.parse('2030-01-01T10:00:00.000Z');
  origin = await startTestOrigin({ ...STORE, clock: { now: () => now }, env: { MAX_BOARDS: '3' } });
  const schedule = { every: 'day', at: '00:00', timeZone: 'Europe/Paris' };
  const created = await post('/boards/', { name: 'Daily', operator: 'best', schedule });
  const { id } = JSON.parse(created.text);
  const scores = async (entries: unknown[]) =>
    expect((await post(`/boards/${id}/scores/`, { entries })).status).toBe(200);
  await scores([
    { externalKey: 'steam:1', name: 'Ada', score: 10 },
    { externalKey: 'steam:2', name: 'Grace', score: 7 },
  ]);
  now = Date.parse('2030-01-02T00:00:01.000Z'); // past midnight in Paris, 23:00 UTC
  await origin.seasons.check();
  await scores([
    { externalKey: 'steam:2', score: 12 },
    { externalKey: 'steam:3', name: 'Linus', score: 3 },
  ]);
  now = Date.parse('2030-01-03T00:00:01.000Z');
  await origin.seasons.check();
  await scores([{ externalKey: 'steam:1', score: 4 }]);
  await post(`/boards/${id}/players/`, { name: 'Margaret' });
  return id;
}

/** A board of a backup, but for its version (a restore over a board moves it on). */
const boardIn = (b: Backup, id: string) => {
  const found = b.boards.find((one) => one.id === id);
  if (found === undefined) throw new Error(`board ${id} is not in the backup`);
  const { version: _, ...board } = found;
  return board;
};
const seasonNumbers = async (id: string) =>
  JSON.parse((await origin.send(`/boards/${id}/seasons/`)).text).seasons.map(
    (season: { number: number }) => season.number,
  );

describe('schedules, seasons and external keys in a backup', () => {
  it('are written, and a backup restored into an empty store gives the same backup back', async () => {
    const id = await seasonedBoard();
    const saved = await backup();
    const board = boardIn(saved, id);
    expect(board).toMatchObject({
      operator: 'best',
      schedule: { every: 'day', at: '00:00', timeZone: 'Europe/Paris' },
      season: { number: 3, startedAt: '2030-01-02T23:00:00.000Z' },
    });
    const keys = board?.players.map((p) => [p.name, p.externalKey]);
    expect(keys?.sort()).toEqual([
      ['Ada', 'steam:1'],
      ['Grace', 'steam:2'],
      ['Linus', 'steam:3'],
      ['Margaret', undefined],
    ]);
    const standings = board?.seasons?.map(({ players, ...season }) => ({
      ...season,
      players: players.map((p) => [p.name, p.score, p.rank, p.externalKey]),
    }));
    expect(standings).toEqual([
      {
        number: 1,
        startedAt: '2030-01-01T10:00:00.000Z',
        endedAt: '2030-01-01T23:00:00.000Z',
        players: [
          ['Ada', 10, 1, 'steam:1'],
          ['Grace', 7, 2, 'steam:2'],
        ],
      },
      {
        number: 2,
        startedAt: '2030-01-01T23:00:00.000Z',
        endedAt: '2030-01-02T23:00:00.000Z',
        players: [
          ['Grace', 12, 1, 'steam:2'],
          ['Linus', 3, 2, 'steam:3'],
          ['Ada', 0, 3, 'steam:1'],
        ],
      },
    ]);

    expect((await restore({ ...saved, boards: [] })).status).toBe(200);
    expect(await origin.send(`/boards/${id}/seasons/`)).toMatchObject({ status: 404 });
    expect((await restore(saved)).status).toBe(200);
    expect((await backup()).boards).toEqual(saved.boards);
  });

  it("keep a restored board's players, season and schedule going: no duplicate player, the next roll", async () => {
    const id = await seasonedBoard();
    const saved = await backup();
    expect((await restore({ ...saved, boards: [] })).status).toBe(200);
    expect((await restore(saved)).status).toBe(200);

    const batch = await post(`/boards/${id}/scores/`, {
      entries: [{ externalKey: 'steam:1', score: 99 }],
    });
    expect(JSON.parse(batch.text).players[0]).toMatchObject({ name: 'Ada', created: false });
    expect((await view(id)).playerCount).toBe(4);
    now = Date.parse('2030-01-04T00:00:01.000Z');
    await origin.seasons.check();
    expect(await seasonNumbers(id)).toEqual([3, 2, 1]);
    expect((await view(id)).season).toMatchObject({ number: 4 });
  });

  it("replace a board's past seasons, durably: a fresh start reads the restored database", async () => {
    const id = await seasonedBoard();
    const saved = await backup();
    const fewer = {
      ...saved,
      boards: saved.boards.map((b) =>
        b.id === id ? { ...b, seasons: b.seasons?.slice(0, 1) } : b,
      ),
    };
    expect((await restore(fewer)).status).toBe(200);
    expect(await seasonNumbers(id)).toEqual([1]);
    const reopened = await origin.reopen();
    expect(reopened).toEqual(JSON.parse((await origin.snapshot()).memory));
    expect(reopened.seasons?.[id]?.map((season) => season.number)).toEqual([1]);
    expect(boardIn(await backup(), id)).toEqual(boardIn(fewer, id));
  });

  it('are absent from a backup written before them, which restores as it always did: the past seasons stay', async () => {
    const id = await seasonedBoard();
    const old = {
      format: 'grip-leaderboard-backup',
      version: 1,
      createdAt: '2029-06-01T00:00:00.000Z',
      boards: [
        {
          id,
          name: 'Daily',
          order: 'desc',
          version: 2,
          createdAt: '2029-06-01T00:00:00.000Z',
          players: [{ id: 'ada', name: 'Ada', score: 5, scoredAt: 1 }],
        },
      ],
    };
    expect((await restore(old)).status).toBe(200);
    const restored = await view(id);
    expect(restored).toMatchObject({ operator: 'incr', playerCount: 1 });
    expect(restored.season).toBeUndefined();
    expect(restored.players[0]).not.toHaveProperty('externalKey');
    expect(await seasonNumbers(id)).toEqual([2, 1]);
    // What a backup now says of that board restores too.
    const again = await backup();
    expect(boardIn(again, id)?.seasons).toHaveLength(2);
    expect((await restore(again)).status).toBe(200);
    expect(boardIn(await backup(), id)).toEqual(boardIn(again, id));
  });
});

describe('a bad backup is refused and nothing changes', () => {
  const valid = (): Backup => ({
    format: 'grip-leaderboard-backup',
    version: 1,
    createdAt: '2026-12-02T12:00:00.000Z',
    boards: [
      {
        id: 'demo',
        name: 'Demo',
        order: 'desc',
        version: 2,
        createdAt: '2026-12-02T12:00:00.000Z',
        players: [
          { id: 'a', name: 'Ada', score: 3, scoredAt: 1 },
          { id: 'b', name: 'Bob', score: 1, scoredAt: 2 },
        ],
      },
    ],
  });
  const edit = (change: (b: Backup & { [key: string]: unknown }) => void) => {
    const b = valid();
    change(b);
    return b;
  };
  const board = (b: Backup) => b.boards[0] as Backup['boards'][number] & { [key: string]: unknown };
  const player = (b: Backup) => board(b).players[0] as { [key: string]: unknown };

  it.each<[string, unknown, number, string, RegExp?]>([
    [
      'another format',
      edit((b) => Object.assign(b, { format: 'x' })),
      400,
      'invalid_backup',
      /format/,
    ],
    [
      'a later version',
      edit((b) => Object.assign(b, { version: 2 })),
      400,
      'invalid_backup',
      /version/,
    ],
    [
      'an unknown field',
      edit((b) => Object.assign(b, { extra: 1 })),
      400,
      'invalid_backup',
      /extra/,
    ],
    [
      'a board without players',
      edit((b) => Reflect.deleteProperty(board(b), 'players')),
      400,
      'invalid_backup',
    ],
    ['a malformed id', edit((b) => Object.assign(board(b), { id: 'a/b' })), 400, 'invalid_backup'],
    [
      'an external key twice on a board',
      edit((b) => {
        for (const p of board(b).players) p.externalKey = 'steam:1';
      }),
      400,
      'invalid_backup',
      /^boards\.0\.players\.1\.externalKey: another player on the board has this external key$/,
    ],
    [
      'a schedule in a time zone that does not exist',
      edit((b) =>
        Object.assign(board(b), {
          schedule: { every: 'day', at: '00:00', timeZone: 'Mars/Olympus_Mons' },
          season: { number: 1, startedAt: '2026-12-02T12:00:00.000Z' },
        }),
      ),
      400,
      'invalid_backup',
      /^boards\.0\.schedule\.timeZone: .*Mars\/Olympus_Mons/,
    ],
    [
      'a name with a control character',
      edit((b) => Object.assign(player(b), { name: 'A\u0007' })),
      400,
      'invalid_backup',
      /boards\.0\.players\.0\.name: must not contain control characters/,
    ],
    [
      'an untrimmed name',
      edit((b) => Object.assign(player(b), { name: ' Ada' })),
      400,
      'invalid_backup',
      /must not start or end with spaces/,
    ],
    [
      'a fractional score',
      edit((b) => Object.assign(player(b), { score: 1.5 })),
      400,
      'invalid_backup',
    ],
    [
      'a score out of range',
      edit((b) => Object.assign(player(b), { score: 1e13 })),
      400,
      'invalid_backup',
    ],
    [
      'a bad date',
      edit((b) => Object.assign(b, { createdAt: 'yesterday' })),
      400,
      'invalid_backup',
    ],
    [
      'two players with one name',
      edit((b) => Object.assign(board(b).players[1] ?? {}, { name: 'ada' })),
      400,
      'invalid_backup',
      /another player on the board has this name/,
    ],
    [
      'more boards than MAX_BOARDS',
      edit((b) => {
        b.boards = ['w', 'x', 'y', 'z'].map((id) => ({ ...board(valid()), id }));
      }),
      409,
      'limit_reached',
    ],
    ['an array', [], 400, 'invalid_backup'],
    ['no body', undefined, 400, 'invalid_backup', /send the backup/],
    ['text that is not JSON', '{"format":', 400, 'invalid_json'],
  ])('%s: %i %s', async (_, body, status, code, message) => {
    const before = await origin.snapshot();
    const reply = await origin.send('/admin/restore/', {
      method: 'POST',
      headers: body === undefined ? ADMIN : JSON_ADMIN,
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    expect(reply.status).toBe(status);
    const error = JSON.parse(reply.text).error;
    expect(error.code).toBe(code);
    if (message !== undefined) expect(error.message).toMatch(message);
    expect(await origin.snapshot()).toStrictEqual(before);
  });

  it('needs the admin token, and reads no body without it', async () => {
    const before = await origin.snapshot();
    const big = JSON.stringify({ ...valid(), pad: 'x'.repeat(2 * 1024 * 1024) });
    const missing = await restore(big, { 'content-type': 'application/json' });
    expect(missing.status).toBe(401);
    const wrong = await restore(valid(), {
      'content-type': 'application/json',
      authorization: 'Bearer wrong-token-0123456789',
    });
    expect(wrong.status).toBe(403);
    expect(await origin.snapshot()).toStrictEqual(before);
  });

  it('refuses a body larger than RESTORE_MAX_MB with 413', async () => {
    const before = await origin.snapshot();
    const reply = await restore({ ...valid(), pad: 'x'.repeat(1024 * 1024) });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text).error).toEqual({
      code: 'body_too_large',
      message: 'the body is larger than 1 MB',
    });
    expect(await origin.snapshot()).toStrictEqual(before);
  });

  it('answers other methods with 405', async () => {
    const reply = await origin.send('/admin/restore/', { headers: ADMIN });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('POST');
  });
});
