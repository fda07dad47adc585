import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createdApiKeySchema } from '../../contract/scores.ts';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from '../test-origin.ts';

// Operators, score batches and Idempotency-Key against a real origin, on the store under test
// (vitest.config.ts runs this file on the embedded store, one Redis node and a Redis Cluster).

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startTestOrigin({ ...storeUnderTest(), env: { MAX_PLAYERS_PER_BOARD: '8' } });
});
afterAll(() => origin.close());

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

async function call(
  path: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = admin,
) {
  const reply = await origin.send(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { ...reply, body: JSON.parse(reply.text || 'null') };
}

async function newBoard(operator?: string, order = 'desc') {
  const reply = await call('/boards/', 'POST', { name: `B ${Math.random()}`, order, operator });
  expect(reply.status).toBe(201);
  return reply.body.id as string;
}

describe('operators', () => {
  it('are chosen at creation, incr by default, and every view says which', async () => {
    const id = await newBoard('best');
    expect((await call(`/boards/${id}/`, 'GET')).body.operator).toBe('best');
    const plain = await newBoard();
    expect((await call(`/boards/${plain}/`, 'GET')).body.operator).toBe('incr');
    const list = (await call('/boards/', 'GET')).body.boards;
    expect(list.find((b: { id: string }) => b.id === id).operator).toBe('best');
  });

  it('refuses an unknown operator, naming the field', async () => {
    const reply = await call('/boards/', 'POST', { name: 'X', operator: 'max' });
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(/^operator:/);
  });

  it('keep the public +1 to incr boards: 409 operator_mismatch elsewhere', async () => {
    const id = await newBoard('set');
    const made = await call(`/boards/${id}/scores/`, 'POST', {
      entries: [{ externalKey: 'u1', name: 'Ada', score: 5 }],
    });
    const player = made.body.players[0].id;
    const plus = await call(`/boards/${id}/players/${player}/score-add/`, 'POST', undefined, {});
    expect(plus.status).toBe(409);
    expect(plus.body.error.code).toBe('operator_mismatch');
    expect(plus.body.error.message).toMatch(/POST \/boards\/<id>\/scores\//);
    // The admin's PATCH still sets the score, on any board.
    const set = await call(`/boards/${id}/players/${player}/`, 'PATCH', { score: 9 });
    expect(set.body.score).toBe(9);
  });
});

describe('POST /boards/:id/scores/', () => {
  it('applies a batch as one version and answers each entry with its rank', async () => {
    const id = await newBoard('best', 'asc');
    const first = await call(`/boards/${id}/scores/`, 'POST', {
      entries: [
        { externalKey: 'steam:1', name: 'Ada', score: 42 },
        { externalKey: 'steam:2', name: 'Grace', score: 40 },
      ],
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      version: 1,
      players: [
        { name: 'Ada', score: 42, rank: 2, externalKey: 'steam:1', created: true },
        { name: 'Grace', score: 40, rank: 1, externalKey: 'steam:2', created: true },
      ],
    });
    const second = await call(`/boards/${id}/scores/`, 'POST', {
      entries: [
        { externalKey: 'steam:1', score: 50 },
        { playerId: first.body.players[1].id, score: 39 },
      ],
    });
    expect(second.body.version).toBe(2);
    expect(second.body.players.map((p: { score: number }) => p.score)).toEqual([42, 39]);
  });

  it('refuses a batch whole with invalid_entries, changing nothing', async () => {
    const id = await newBoard();
    await call(`/boards/${id}/scores/`, 'POST', {
      entries: [{ externalKey: 'a', name: 'A', score: 1 }],
    });
    const before = await origin.snapshot();
    const reply = await call(`/boards/${id}/scores/`, 'POST', {
      entries: [
        { externalKey: 'a', score: 1 },
        { externalKey: 'b', score: 1 },
        { externalKey: 'a', score: 2 },
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('invalid_entries');
    expect(reply.body.error.entries).toEqual([
      { index: 1, message: expect.stringMatching(/^name:/) },
      { index: 2, message: expect.stringMatching(/same player as entries\[0\]/) },
    ]);
    expect(await origin.snapshot()).toEqual(before);
  });

  it('needs the admin token or an API key', async () => {
    const reply = await call(
      '/boards/demo/scores/',
      'POST',
      { entries: [] },
      {
        'content-type': 'application/json',
      },
    );
    expect(reply.status).toBe(401);
  });

  it('checks the body: 1 to 1,000 entries, each by id or key', async () => {
    const reply = await call('/boards/demo/scores/', 'POST', {
      entries: [{ playerId: 'p1', externalKey: 'x', score: 1 }],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('invalid_body');
  });
});

describe('Idempotency-Key', () => {
  it('answers a retry of a batch with the first answer, and changes nothing', async () => {
    const id = await newBoard();
    const headers = { ...admin, 'idempotency-key': 'batch-1' };
    const body = { entries: [{ externalKey: 'k', name: 'Kay', score: 3 }] };
    const first = await call(`/boards/${id}/scores/`, 'POST', body, headers);
    const before = await origin.snapshot();
    const again = await call(`/boards/${id}/scores/`, 'POST', body, headers);
    expect(again.status).toBe(first.status);
    expect(again.text).toBe(first.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await origin.snapshot()).toEqual(before);
  });

  it('refuses the same key with another request: 409 idempotency_key_reused', async () => {
    const id = await newBoard();
    const headers = { ...admin, 'idempotency-key': 'reused' };
    await call(
      `/boards/${id}/scores/`,
      'POST',
      { entries: [{ externalKey: 'k', name: 'K', score: 1 }] },
      headers,
    );
    const other = await call(
      `/boards/${id}/scores/`,
      'POST',
      { entries: [{ externalKey: 'k', score: 2 }] },
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });

  it('refuses a malformed key', async () => {
    const reply = await call(
      '/boards/',
      'POST',
      { name: 'Z' },
      { ...admin, 'idempotency-key': '' },
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('invalid_idempotency_key');
  });

  it('counts a public +1 once, whatever the retries', async () => {
    const headers = { 'idempotency-key': 'click-1' };
    const first = await call('/boards/demo/players/p2/score-add/', 'POST', undefined, headers);
    const again = await call('/boards/demo/players/p2/score-add/', 'POST', undefined, headers);
    expect(again.text).toBe(first.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await call('/boards/demo/players/p2/', 'GET')).body.score).toBe(first.body.score);
  });

  it('keeps callers apart: the admin and the public never share a key', async () => {
    const headers = { 'idempotency-key': 'shared' };
    const publicOne = await call('/boards/demo/players/p3/score-add/', 'POST', undefined, headers);
    const adminOne = await call('/boards/demo/players/p3/score-add/', 'POST', undefined, {
      ...admin,
      'idempotency-key': 'shared',
    });
    expect(adminOne.headers['idempotent-replayed']).toBeUndefined();
    expect(adminOne.body.score).toBe(publicOne.body.score + 1);
  });

  it('replays creations and deletions with their status: 201, then 204', async () => {
    const headers = { ...admin, 'idempotency-key': 'create-1' };
    const first = await call('/boards/', 'POST', { name: 'Once' }, headers);
    const again = await call('/boards/', 'POST', { name: 'Once' }, headers);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body.id).toBe(first.body.id);
    const boards = (await call('/boards/', 'GET')).body.boards;
    expect(boards.filter((b: { name: string }) => b.name === 'Once')).toHaveLength(1);
    const gone = { ...admin, 'idempotency-key': 'delete-1' };
    const deleted = await call(`/boards/${first.body.id}/`, 'DELETE', undefined, gone);
    const retried = await call(`/boards/${first.body.id}/`, 'DELETE', undefined, gone);
    expect([deleted.status, retried.status]).toEqual([204, 204]);
    expect(retried.headers['idempotent-replayed']).toBe('true');
  });
});

describe('a batch with an API key', () => {
  async function newKey(boards: string[]) {
    const reply = await call('/admin/keys/', 'POST', { name: 'Game server', boards });
    expect(reply.status).toBe(201);
    const created = createdApiKeySchema.parse(reply.body);
    return {
      id: created.key.id,
      headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/json' },
    };
  }

  it('submits to its boards, and is refused elsewhere (403) and once revoked (401)', async () => {
    const id = await newBoard('best');
    const other = await newBoard('best');
    const key = await newKey([id]);
    const batch = { entries: [{ externalKey: 'srv:1', name: 'Lin', score: 7 }] };
    const made = await call(`/boards/${id}/scores/`, 'POST', batch, key.headers);
    expect(made.status).toBe(200);
    expect(made.body.players).toMatchObject([{ name: 'Lin', score: 7, rank: 1, created: true }]);

    const before = await origin.snapshot();
    const outside = await call(`/boards/${other}/scores/`, 'POST', batch, key.headers);
    expect(outside.status).toBe(403);
    expect(outside.body.error.code).toBe('forbidden');
    expect((await call(`/admin/keys/${key.id}/`, 'DELETE')).status).toBe(204);
    const revoked = await call(`/boards/${id}/scores/`, 'POST', batch, key.headers);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('unauthorized');
    const after = await origin.snapshot();
    expect(after.memory).toBe(before.memory);
    expect(after.published).toBe(before.published);
  });

  it("keeps a key's Idempotency-Keys apart from the admin's", async () => {
    const id = await newBoard();
    const key = await newKey([id]);
    const batch = { entries: [{ externalKey: 'srv:2', name: 'Mo', score: 2 }] };
    const first = await call(`/boards/${id}/scores/`, 'POST', batch, {
      ...key.headers,
      'idempotency-key': 'round-1',
    });
    const replayed = await call(`/boards/${id}/scores/`, 'POST', batch, {
      ...key.headers,
      'idempotency-key': 'round-1',
    });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.text).toBe(first.text);
    const byAdmin = await call(`/boards/${id}/scores/`, 'POST', batch, {
      ...admin,
      'idempotency-key': 'round-1',
    });
    expect(byAdmin.headers['idempotent-replayed']).toBeUndefined();
    expect(byAdmin.body.players[0]).toMatchObject({ score: 4, created: false });
  });

  it('refuses a batch that would pass the board limit whole, naming the entry', async () => {
    const id = await newBoard();
    const entries = Array.from({ length: 9 }, (_, i) => ({
      externalKey: `many:${i}`,
      name: `Many ${i}`,
      score: i,
    }));
    const before = await origin.snapshot();
    const reply = await call(`/boards/${id}/scores/`, 'POST', { entries });
    expect(reply.status).toBe(400);
    expect(reply.body.error.entries).toEqual([
      { index: 8, message: 'the board would hold 9 players; at most 8' },
    ]);
    expect(await origin.snapshot()).toEqual(before);
  });
});
