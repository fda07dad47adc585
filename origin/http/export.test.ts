import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardExportSchema } from '../../contract/export.ts';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from '../test-origin.ts';

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const BOM = '\ufeff';
// On every store (vitest.config.ts).
const STORE = storeUnderTest();

describe('GET /boards/:id/export/', () => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin({
      ...STORE,
      clock: { now: () => Date.UTC(2026, 11, 2, 12) },
      seed: (db) => {
        const board = db.boards.demo;
        if (board === undefined) throw new Error('no demo board');
        board.name = 'Quiz night: finals';
        const scores: [string, number, string][] = [
          ['p1', 30, '=HYPERLINK("http://evil.example")'],
          ['p2', 30, 'Smith, "Ace"'],
          ['p3', -5, 'Zoë 張'],
          ['p4', 12, '@admin'],
          ['p5', 0, '-minus'],
        ];
        // A new array: the domain indexes a board's players by the array it was given.
        board.players = scores.map(([id, score, name], i) => ({
          id,
          name,
          score,
          scoredAt: i + 1,
        }));
      },
    });
  });
  afterAll(() => origin.close());

  it('is a CSV download: BOM, header, rank order with ties, quoted and neutralised cells', async () => {
    const reply = await origin.send('/boards/demo/export/', { headers: ADMIN });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(reply.headers['content-disposition']).toBe(
      'attachment; filename="quiz-night-finals-2026-12-02.csv"',
    );
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.text).toBe(
      `${BOM}rank,name,score,id\r\n` +
        `1,"'=HYPERLINK(""http://evil.example"")",30,p1\r\n` +
        `1,"Smith, ""Ace""",30,p2\r\n` +
        `3,'@admin,12,p4\r\n` +
        `4,'-minus,0,p5\r\n` +
        `5,Zoë 張,-5,p3\r\n`,
    );
  });

  it('is the same with ?format=csv', async () => {
    const csv = await origin.send('/boards/demo/export/?format=csv', { headers: ADMIN });
    const plain = await origin.send('/boards/demo/export/', { headers: ADMIN });
    expect(csv.text).toBe(plain.text);
  });

  it('is the whole board in JSON with ?format=json', async () => {
    const reply = await origin.send('/boards/demo/export/?format=json', { headers: ADMIN });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.headers['content-disposition']).toBe(
      'attachment; filename="quiz-night-finals-2026-12-02.json"',
    );
    const body = boardExportSchema.parse(JSON.parse(reply.text));
    expect(body.exportedAt).toBe('2026-12-02T12:00:00.000Z');
    expect(body.board).toMatchObject({ id: 'demo', playerCount: 5 });
    expect(body.board.players.map((p) => [p.rank, p.id])).toEqual([
      [1, 'p1'],
      [1, 'p2'],
      [3, 'p4'],
      [4, 'p5'],
      [5, 'p3'],
    ]);
  });

  it.each([
    ['no token', {}, 401, 'unauthorized'],
    ['a wrong token', { authorization: 'Bearer wrong-token-0123456789' }, 403, 'forbidden'],
  ])('needs the admin token: %s is %i', async (_, headers, status, code) => {
    const reply = await origin.send('/boards/demo/export/', { headers });
    expect(reply.status).toBe(status);
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code } });
    expect(reply.headers['content-disposition']).toBeUndefined();
  });

  it.each([
    ['an unknown format', '/boards/demo/export/?format=xlsx', 400, 'invalid_query'],
    ['an unknown parameter', '/boards/demo/export/?limit=3', 400, 'invalid_query'],
    ['an unknown board', '/boards/nope/export/', 404, 'not_found'],
  ])('refuses %s', async (_, path, status, code) => {
    const reply = await origin.send(path, { headers: ADMIN });
    expect(reply.status).toBe(status);
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code } });
  });

  it('answers GET only', async () => {
    const reply = await origin.send('/boards/demo/export/', { method: 'POST', headers: ADMIN });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET');
  });
});
