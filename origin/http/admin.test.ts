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
