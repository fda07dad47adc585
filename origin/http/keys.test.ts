import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths, type routePatterns } from '../../contract/paths.ts';
import { apiKeyListSchema, createdApiKeySchema } from '../../contract/scores.ts';
import { parseApiKeyToken } from '../domain/api-keys.ts';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from '../test-origin.ts';

// The admin's API keys against a real origin on the store under test: made (the token shown
// once, only its hash at rest), listed without secrets, revoked; and a key is refused on every
// admin route, since it may submit scores and nothing else.

const JSON_ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

let origin: TestOrigin;
beforeEach(async () => {
  origin = await startTestOrigin(storeUnderTest());
});
afterEach(() => origin.close());

const createKey = (body: unknown, headers: Record<string, string> = JSON_ADMIN) =>
  origin.send(apiPaths.apiKeys(), { method: 'POST', headers, body: JSON.stringify(body) });
const listKeys = async () => {
  const reply = await origin.send(apiPaths.apiKeys(), { headers: JSON_ADMIN });
  expect(reply.status).toBe(200);
  return apiKeyListSchema.parse(JSON.parse(reply.text)).keys;
};
const revokeKey = (id: string) =>
  origin.send(apiPaths.apiKey(id), { method: 'DELETE', headers: JSON_ADMIN });
const errorOf = (text: string) =>
  (JSON.parse(text) as { error: { code: string; message: string } }).error;

/**
 * Everything kept at rest, as text: every file of the data directory (the embedded store keeps
 * its keys in `<data file>.keys.json`), or every Redis key and its value.
 */
async function storedText(): Promise<string> {
  if (origin.store !== 'embedded') return (await origin.snapshot()).stored.toString();
  const dir = dirname(origin.dataFile);
  const names = await readdir(dir);
  return (await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')))).join('\n');
}

describe('POST /admin/keys/', () => {
  it('makes a key, shows its token once and keeps only its hash', async () => {
    const reply = await createKey({ name: 'EU servers', boards: ['demo'], ratePerSecond: 20 });
    expect(reply.status).toBe(201);
    expect(reply.headers['cache-control']).toBe('no-store');
    const created = createdApiKeySchema.parse(JSON.parse(reply.text));
    expect(created.key).toMatchObject({
      name: 'EU servers',
      boards: ['demo'],
      ratePerSecond: 20,
      burst: 100,
    });
    const parsed = parseApiKeyToken(created.token);
    expect(parsed?.id).toBe(created.key.id);
    expect(JSON.stringify(created.key)).not.toContain('secretHash');

    const stored = await storedText();
    expect(stored).toContain(created.key.id);
    expect(stored).not.toContain(parsed?.secret);
    expect(stored).toMatch(/\\?"secretHash\\?":\\?"[0-9a-f]{64}\\?"/);
    expect(origin.logs.join('\n')).not.toContain(parsed?.secret);
  });

  it('refuses a board that does not exist with 404 naming it', async () => {
    const reply = await createKey({ name: 'Ghost', boards: ['demo', 'nowhere'] });
    expect(reply.status).toBe(404);
    expect(errorOf(reply.text).message).toContain('"nowhere"');
    expect(await listKeys()).toEqual([]);
  });

  it('refuses a body that is not a key with 400', async () => {
    for (const body of [
      {},
      { name: 'No boards', boards: [] },
      { name: 'Bad id', boards: ['no/such id'] },
      { name: 'Too fast', boards: ['demo'], ratePerSecond: 0 },
      { name: 'Extra', boards: ['demo'], admin: true },
    ]) {
      const reply = await createKey(body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(reply.text).code).toBe('invalid_body');
    }
  });

  it('needs the admin token', async () => {
    const reply = await createKey(
      { name: 'Anyone', boards: ['demo'] },
      { 'content-type': 'application/json' },
    );
    expect(reply.status).toBe(401);
  });
});

describe('GET /admin/keys/ and DELETE /admin/keys/:keyId/', () => {
  it('lists keys without secrets or hashes, and revokes once', async () => {
    const created = createdApiKeySchema.parse(
      JSON.parse((await createKey({ name: 'One', boards: ['demo'] })).text),
    );
    const listed = await listKeys();
    expect(listed).toEqual([created.key]);
    expect(JSON.stringify(listed)).not.toMatch(/secret|[0-9a-f]{64}|lbk_/i);

    expect((await revokeKey(created.key.id)).status).toBe(204);
    const revokedAt = (await listKeys())[0]?.revokedAt;
    expect(revokedAt).toBeDefined();
    expect((await revokeKey(created.key.id)).status).toBe(204);
    expect((await listKeys())[0]?.revokedAt).toBe(revokedAt);
  });

  it('answers 404 for a key that is not there', async () => {
    expect((await revokeKey('AAAAAAAAAAAA')).status).toBe(404);
    expect((await revokeKey('short')).status).toBe(404);
  });
});

/**
 * Every route and the methods on it that take the admin token. Typed against `routePatterns`,
 * so a new path does not type-check until it says here what it takes.
 */
const ADMIN_METHODS: Record<
  keyof typeof routePatterns,
  Array<{ method: string; path: string; body?: unknown }>
> = {
  admin: [{ method: 'GET', path: '/admin/' }],
  backup: [{ method: 'GET', path: '/admin/backup/' }],
  restore: [{ method: 'POST', path: '/admin/restore/', body: { format: 1, boards: [] } }],
  apiKeys: [
    { method: 'GET', path: '/admin/keys/' },
    { method: 'POST', path: '/admin/keys/', body: { name: 'Escalated', boards: ['demo'] } },
  ],
  apiKey: [{ method: 'DELETE', path: '/admin/keys/KEYID/' }],
  health: [],
  ready: [],
  // The one route a key may use (with its board in scope): tested in score-auth and scores tests.
  scores: [],
  boards: [{ method: 'POST', path: '/boards/', body: { name: 'Mine' } }],
  board: [
    { method: 'PATCH', path: '/boards/demo/', body: { schedule: null } },
    { method: 'DELETE', path: '/boards/demo/' },
  ],
  seasons: [],
  season: [],
  recover: [],
  reset: [{ method: 'POST', path: '/boards/demo/reset/' }],
  boardExport: [{ method: 'GET', path: '/boards/demo/export/' }],
  players: [{ method: 'POST', path: '/boards/demo/players/', body: { name: 'Intruder' } }],
  import: [{ method: 'POST', path: '/boards/demo/import/' }],
  player: [
    { method: 'PATCH', path: '/boards/demo/players/p1/', body: { score: 1000 } },
    { method: 'DELETE', path: '/boards/demo/players/p1/' },
  ],
  scoreAdd: [
    { method: 'POST', path: '/boards/demo/players/p1/score-add/', body: { amount: 1000 } },
  ],
};

describe('an API key on the admin routes', () => {
  it('is refused with 401 on every one of them, and nothing changes', async () => {
    const created = createdApiKeySchema.parse(
      JSON.parse((await createKey({ name: 'Game', boards: ['demo'] })).text),
    );
    const before = await origin.snapshot();
    const keysBefore = await listKeys();
    const headers = {
      authorization: `Bearer ${created.token}`,
      'content-type': 'application/json',
    };
    for (const route of Object.values(ADMIN_METHODS).flat()) {
      const path = route.path.replace('KEYID', created.key.id);
      const reply = await origin.send(path, {
        method: route.method,
        headers,
        body: route.body === undefined ? undefined : JSON.stringify(route.body),
      });
      expect(reply.status, `${route.method} ${path}`).toBe(401);
      expect(reply.headers['www-authenticate'], `${route.method} ${path}`).toMatch(/^Bearer/);
      expect(errorOf(reply.text).code).toBe('unauthorized');
      expect(reply.text).not.toContain(created.token);
    }
    expect(await origin.snapshot()).toEqual(before);
    expect(await listKeys()).toEqual(keysBefore);
  });

  it('leaves the admin token working on them', async () => {
    const reply = await origin.send('/admin/', { headers: JSON_ADMIN });
    expect(reply.status).toBe(200);
  });
});
