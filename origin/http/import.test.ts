import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from '../test-origin.ts';
import { splitCsv } from './import-lines.ts';

// On every store (vitest.config.ts).
const STORE = storeUnderTest();

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startTestOrigin({
    ...STORE,
    env: { MAX_PLAYERS_PER_BOARD: '20000', IMPORT_MAX_MB: '1' },
  });
});
afterAll(() => origin.close());

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ndjson = { ...auth, 'content-type': 'application/x-ndjson' };
const csv = { ...auth, 'content-type': 'text/csv; charset=utf-8' };

async function importing(body: string, headers: Record<string, string>, query = '') {
  const reply = await origin.send(`/boards/demo/import/${query}`, {
    method: 'POST',
    headers,
    body,
  });
  return { status: reply.status, body: JSON.parse(reply.text || 'null') };
}

describe('POST /boards/:id/import/', () => {
  it('reads CSV under a name,score header, quoted fields and CRLF included', async () => {
    const body = 'Name,Score\r\n"Comma, Person",5\r\n"Quote ""Q""",\r\nPlain,-2\r\n';
    const { status, body: result } = await importing(body, csv);
    expect(status).toBe(200);
    expect(result).toMatchObject({ added: 3, skipped: 0 });
    const q = JSON.parse((await origin.send('/boards/demo/players/?q=quote')).text);
    expect(q.players[0]).toMatchObject({ name: 'Quote "Q"', score: 0 });
  });

  it('skips names already on the board when asked, and refuses them otherwise', async () => {
    const body = '{"name":"ada"}\n{"name":"Fresh one"}\n';
    const refused = await importing(body, ndjson);
    expect(refused.status).toBe(400);
    expect(refused.body.error.lines).toEqual([
      { line: 1, message: expect.stringMatching(/already on this board/) },
    ]);
    const skipped = await importing(body, ndjson, '?existing=skip');
    expect(skipped.body).toMatchObject({ added: 1, skipped: 1 });
  });

  it.each([
    ['a line that is not JSON', '{"name":"A1"}\nnope\n', [2]],
    ['an unknown field', '{"name":"A2","rank":1}\n', [1]],
    ['an empty name and a fractional score', '{"name":" "}\n{"name":"A3","score":1.5}\n', [1, 2]],
    ['a name twice (any case)', '{"name":"Twin"}\n\n{"name":"TWIN"}\n', [3]],
    ['nothing at all', '\n\n', [2]],
  ])('refuses %s by line, changing nothing', async (_, body, lines) => {
    const before = await origin.snapshot();
    const { status, body: answer } = await importing(body, ndjson);
    expect(status).toBe(400);
    expect(answer.error.code).toBe('invalid_import');
    expect(answer.error.lines.map((l: { line: number }) => l.line)).toEqual(lines);
    expect(await origin.snapshot()).toStrictEqual(before);
  });

  it.each([
    ['a wrong header', 'player,points\nA,1\n', [1]],
    ['a wrong field count', 'name,score\nA,1,2\n', [2]],
    ['an open quote', 'name\n"A\n', [2]],
    ['a score that is not whole', 'name,score\nA,1e3\n', [2]],
  ])('refuses CSV with %s by line', async (_, body, lines) => {
    const { status, body: answer } = await importing(body, csv);
    expect(status).toBe(400);
    expect(answer.error.lines.map((l: { line: number }) => l.line)).toEqual(lines);
  });

  it('refuses more players than the board may hold, changing nothing', async () => {
    const before = await origin.snapshot();
    const lines = Array.from({ length: 25_000 }, (_, i) => `{"name":"Over ${i}"}`).join('\n');
    const { status, body } = await importing(lines, ndjson);
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/at most 20000/);
    expect(await origin.snapshot()).toStrictEqual(before);
  });

  it('adds NDJSON players with their scores in one version, and they rank', async () => {
    const lines = Array.from({ length: 12_000 }, (_, i) =>
      JSON.stringify({ name: `Imported ${i}`, score: i % 100 }),
    );
    const before = JSON.parse((await origin.send('/boards/demo/?limit=1')).text).version;
    const { status, body } = await importing(`${lines.join('\n')}\n`, ndjson);
    expect(status).toBe(200);
    expect(body).toMatchObject({ added: 12_000, skipped: 0, version: before + 2 });
    const top = JSON.parse((await origin.send('/boards/demo/?limit=3')).text);
    expect(top.players.map((p: { score: number }) => p.score)).toEqual([99, 99, 99]);
    const found = JSON.parse(
      (await origin.send('/boards/demo/players/?q=imported%201199&limit=20')).text,
    );
    expect(found.players.map((p: { name: string }) => p.name)).toContain('Imported 11999');
  });

  it('refuses without the token before reading, another media type, and a body over the cap', async () => {
    expect(
      (await importing('{"name":"X"}', { 'content-type': 'application/x-ndjson' })).status,
    ).toBe(401);
    expect(
      (await importing('{"name":"X"}', { ...auth, 'content-type': 'application/json' })).status,
    ).toBe(415);
    expect(
      (await importing('name\nX', { ...auth, 'content-type': 'text/csv; charset=latin1' })).status,
    ).toBe(415);
    const big = `${'{"name":"Big"}\n'.repeat(80_000)}`;
    const { status, body } = await importing(big, ndjson);
    expect(status).toBe(413);
    expect(body.error.code).toBe('body_too_large');
  });
});

describe('splitCsv', () => {
  it.each([
    ['a,b', ['a', 'b']],
    ['"a,b",c', ['a,b', 'c']],
    ['"a ""q""",', ['a "q"', '']],
    ['', ['']],
    ['"open', 'a quoted field is not closed on its line'],
    ['"a"b', 'text after a closing quote'],
  ])('%j', (line, expected) => {
    expect(splitCsv(line)).toEqual(expected);
  });
});
