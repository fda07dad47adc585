import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyListSchema, createdApiKeySchema } from '../../contract/scores.ts';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from '../test-origin.ts';

// Idempotency-Key on the writes of many steps (a board's schedule, an import, a restore, API
// keys), whose answer is kept once the write is done: a retry gets the first answer and changes
// nothing, a reused key is refused. On the store under test (vitest.config.ts runs this file on
// the embedded store, one Redis node and a Redis Cluster).

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startTestOrigin(storeUnderTest());
});
afterAll(() => origin.close());

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const JSON_TYPE = { 'content-type': 'application/json' };

async function call(
  path: string,
  method: string,
  body: string | undefined,
  headers: Record<string, string>,
) {
  const reply = await origin.send(path, {
    method,
    headers: { ...ADMIN, ...headers },
    ...(body === undefined ? {} : { body }),
  });
  return { ...reply, body: JSON.parse(reply.text || 'null') };
}

/** Sends the same request twice under one key, and once more with another body. */
async function retried(
  path: string,
  method: string,
  body: string | undefined,
  other: string | undefined,
  headers: Record<string, string> = JSON_TYPE,
) {
  const key = { 'idempotency-key': `k-${Math.random()}`, ...headers };
  const first = await call(path, method, body, key);
  const before = await origin.snapshot();
  const again = await call(path, method, body, key);
  const after = await origin.snapshot();
  const reused = other === undefined ? undefined : await call(path, method, other, key);
  return { first, again, unchanged: () => expect(after).toStrictEqual(before), reused };
}

describe('Idempotency-Key on writes of many steps', () => {
  it("a board's schedule: the first answer again, nothing changed; another body 409", async () => {
    const schedule = { every: 'week', at: '09:00', timeZone: 'Europe/Paris', weekday: 1 };
    const other = { ...schedule, at: '10:00' };
    const t = await retried(
      '/boards/demo/',
      'PATCH',
      JSON.stringify({ schedule }),
      JSON.stringify({ schedule: other }),
    );
    expect(t.first.status).toBe(200);
    expect(t.again.status).toBe(200);
    expect(t.again.headers['idempotent-replayed']).toBe('true');
    expect(t.again.text).toBe(t.first.text);
    t.unchanged();
    expect(t.reused?.status).toBe(409);
    expect(t.reused?.body.error.code).toBe('idempotency_key_reused');
  });

  it('an import: the same counts again, no player added twice; another body 409', async () => {
    const rows = '{"name":"Imported One"}\n{"name":"Imported Two","score":3}\n';
    const t = await retried('/boards/demo/import/', 'POST', rows, '{"name":"Other"}\n', {
      'content-type': 'application/x-ndjson',
    });
    expect(t.first.status).toBe(200);
    expect(t.first.body.added).toBe(2);
    expect(t.again.status).toBe(200);
    expect(t.again.headers['idempotent-replayed']).toBe('true');
    expect(t.again.body).toEqual(t.first.body);
    t.unchanged();
    expect(t.reused?.status).toBe(409);
  });

  it('a restore: the first answer again, nothing restored twice', async () => {
    const backup = (await call('/admin/backup/', 'GET', undefined, {})).text;
    const t = await retried('/admin/restore/', 'POST', backup, undefined);
    expect(t.first.status).toBe(200);
    expect(t.again.status).toBe(200);
    expect(t.again.headers['idempotent-replayed']).toBe('true');
    expect(t.again.body).toEqual(t.first.body);
    t.unchanged();
  });

  it('an API key: made once, its token shown once; a retry is 409 naming the key', async () => {
    const body = JSON.stringify({ name: 'Retried', boards: ['demo'] });
    const key = { 'idempotency-key': `k-${Math.random()}`, ...JSON_TYPE };
    const first = await call('/admin/keys/', 'POST', body, key);
    expect(first.status).toBe(201);
    const made = createdApiKeySchema.parse(first.body);
    const again = await call('/admin/keys/', 'POST', body, key);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('api_key_already_made');
    expect(again.body.error.message).toContain(made.key.id);
    expect(again.text).not.toContain(made.token);
    const keys = apiKeyListSchema.parse((await call('/admin/keys/', 'GET', undefined, {})).body);
    expect(keys.keys.filter((k) => k.name === 'Retried')).toHaveLength(1);
    // What was kept for the retry holds no token.
    expect(JSON.stringify((await origin.snapshot()).stored)).not.toContain(made.token);

    const revoke = { 'idempotency-key': `k-${Math.random()}` };
    const path = `/admin/keys/${made.key.id}/`;
    expect((await call(path, 'DELETE', undefined, revoke)).status).toBe(204);
    const replay = await call(path, 'DELETE', undefined, revoke);
    expect(replay.status).toBe(204);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });
});
