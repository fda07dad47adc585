import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SCORE } from '../contract/board.ts';
import {
  ADMIN_TOKEN,
  dataFileOf,
  type Reply,
  startTestOrigin,
  storeUnderTest,
  type TestOrigin,
} from './test-origin.ts';

// The bad-input suite: every endpoint, every kind of wrong input. Each case says what is sent and
// what must come back, and checks that the refusal is the JSON error shape, carries no stack trace,
// and left what is stored (byte for byte), every board and the publisher untouched. It runs on
// every store (vitest.config.ts): each origin here is started on the store under test.
const STORE = storeUnderTest();

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const JSON_TYPE = { 'content-type': 'application/json' };

interface BadCase {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  code: string;
  /** Malformed ids are refused before the database is read at all. */
  noLookup?: boolean;
  /** Response headers the refusal must carry. */
  expectHeaders?: Record<string, string | RegExp>;
}

/** An admin request with a JSON body. */
const adminJson = (body: unknown) => ({
  headers: { ...ADMIN, ...JSON_TYPE },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

// The origin under test: the limits are already reached (one board, five players, one player at the
// highest score), so a valid mutation that gets past validation must still be refused.
const SEEDED_AT_MAX = 'p5';

let origin: TestOrigin;
const startOrigin = async () => {
  origin = await startTestOrigin({
    ...STORE,
    env: { MAX_BOARDS: '1', MAX_PLAYERS_PER_BOARD: '5' },
    seed: (db) => {
      const player = db.boards.demo?.players.find((p) => p.id === SEEDED_AT_MAX);
      if (player === undefined) throw new Error(`no seeded player ${SEEDED_AT_MAX}`);
      player.score = MAX_SCORE;
    },
  });
};

async function expectRefused(c: BadCase): Promise<void> {
  const before = await origin.snapshot();
  const calls = origin.storeCalls.length;
  const reply: Reply = await origin.send(c.path, {
    method: c.method,
    headers: c.headers,
    body: c.body,
  });
  if (c.noLookup) expect(origin.storeCalls.slice(calls)).toEqual([]);
  expect({ status: reply.status, text: reply.text }).toMatchObject({ status: c.status });
  expect(reply.headers['content-type']).toMatch(/^application\/json; charset=utf-8$/);
  expect(reply.headers['cache-control']).toBe('no-store');
  expect(JSON.parse(reply.text)).toStrictEqual({
    error: { code: c.code, message: expect.any(String) },
  });
  expect(reply.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
  for (const [name, value] of Object.entries(c.expectHeaders ?? {})) {
    expect(reply.headers[name.toLowerCase()]).toMatch(value);
  }
  expect(await origin.snapshot()).toStrictEqual(before);
}

const title = '$method $path -> $status $code';

// The API's routes with the methods each answers, and a request that each of its endpoints accepts.
const ROUTES = [
  { path: '/boards/', allow: 'GET, POST' },
  { path: '/boards/demo/', allow: 'GET, PATCH, DELETE' },
  { path: '/boards/demo/seasons/', allow: 'GET' },
  { path: '/boards/demo/seasons/1/', allow: 'GET' },
  { path: '/boards/demo/recover/', allow: 'GET' },
  { path: '/boards/demo/players/', allow: 'GET, POST' },
  { path: '/boards/demo/players/p1/', allow: 'GET, PATCH, DELETE' },
  { path: '/boards/demo/players/p1/score-add/', allow: 'POST' },
  { path: '/boards/demo/reset/', allow: 'POST' },
  { path: '/boards/demo/import/', allow: 'POST' },
  { path: '/boards/demo/export/', allow: 'GET' },
  { path: '/admin/', allow: 'GET' },
  { path: '/admin/backup/', allow: 'GET' },
  { path: '/admin/restore/', allow: 'POST' },
  { path: '/healthz', allow: 'GET' },
  { path: '/readyz', allow: 'GET' },
];

/** Endpoints that read a JSON body, with a body each would accept. */
const BODY_ENDPOINTS = [
  { method: 'POST', path: '/boards/', valid: { name: 'New board' } },
  { method: 'POST', path: '/boards/demo/players/', valid: { name: 'New player' } },
  { method: 'PATCH', path: '/boards/demo/players/p1/', valid: { name: 'Renamed' } },
  { method: 'PATCH', path: '/boards/demo/', valid: { schedule: null } },
  { method: 'POST', path: '/boards/demo/players/p1/score-add/', valid: { amount: 5 } },
  { method: 'POST', path: '/boards/demo/reset/', valid: {} },
];

/** Every endpoint that needs the admin token, with a request that the token would make succeed. */
const ADMIN_ENDPOINTS = [
  { method: 'POST', path: '/boards/', body: { name: 'New board' } },
  { method: 'DELETE', path: '/boards/demo/' },
  { method: 'POST', path: '/boards/demo/players/', body: { name: 'New player' } },
  { method: 'PATCH', path: '/boards/demo/players/p1/', body: { score: 7 } },
  { method: 'DELETE', path: '/boards/demo/players/p1/' },
  { method: 'POST', path: '/boards/demo/reset/' },
  { method: 'POST', path: '/boards/demo/players/p1/score-add/', body: { amount: 5 } },
  { method: 'GET', path: '/boards/demo/export/' },
  { method: 'GET', path: '/admin/' },
  { method: 'GET', path: '/admin/backup/' },
  {
    method: 'POST',
    path: '/admin/restore/',
    body: {
      format: 'grip-leaderboard-backup',
      version: 1,
      createdAt: '2026-01-01T00:00:00Z',
      boards: [],
    },
  },
];

/** Every endpoint under a board, as a function of the board id (and a valid admin request). */
const BOARD_ENDPOINTS = [
  { method: 'GET', path: (b: string) => `/boards/${b}/` },
  { method: 'DELETE', path: (b: string) => `/boards/${b}/` },
  { method: 'GET', path: (b: string) => `/boards/${b}/recover/`, gripOnly: true },
  { method: 'POST', path: (b: string) => `/boards/${b}/players/`, body: { name: 'Zed' } },
  { method: 'GET', path: (b: string) => `/boards/${b}/players/p1/` },
  { method: 'PATCH', path: (b: string) => `/boards/${b}/players/p1/`, body: { score: 1 } },
  { method: 'DELETE', path: (b: string) => `/boards/${b}/players/p1/` },
  { method: 'POST', path: (b: string) => `/boards/${b}/players/p1/score-add/` },
  { method: 'POST', path: (b: string) => `/boards/${b}/reset/` },
  { method: 'GET', path: (b: string) => `/boards/${b}/export/` },
];

/** Every endpoint under a player of the demo board, as a function of the player id. */
const PLAYER_ENDPOINTS = [
  { method: 'GET', path: (p: string) => `/boards/demo/players/${p}/` },
  { method: 'PATCH', path: (p: string) => `/boards/demo/players/${p}/`, body: { score: 1 } },
  { method: 'DELETE', path: (p: string) => `/boards/demo/players/${p}/` },
  { method: 'POST', path: (p: string) => `/boards/demo/players/${p}/score-add/` },
];

const WELL_FORMED_UNKNOWN_IDS = ['nope', '__proto__', 'constructor', 'hasOwnProperty', 'toString'];
const MALFORMED_IDS = [
  'a.b',
  'x'.repeat(33),
  '%20',
  '%00',
  '%C3%A9',
  'a%2Fb',
  '..',
  'a%3Cscript%3E',
];

const BAD_NAMES: [string, unknown][] = [
  ['empty', ''],
  ['only spaces', '    '],
  ['only whitespace', '\t\n \u00a0'],
  ['65 characters', 'x'.repeat(65)],
  ['65 emoji (code points, not UTF-16 units)', '😀'.repeat(65)],
  ['a NUL', 'a\u0000b'],
  ['a newline inside', 'a\nb'],
  ['a tab inside', 'a\tb'],
  ['an ANSI escape', '\u001b[31mred'],
  ['DEL', 'a\u007fb'],
  ['a C1 control', 'a\u0085b'],
  ['a right-to-left override', 'a\u202eb'],
  ['a bidi isolate', 'a\u2066b'],
  ['a line separator', 'a\u2028b'],
  ['a lone surrogate', 'a\ud800b'],
  ['a number', 1],
  ['null', null],
  ['a boolean', true],
  ['an array', ['Ada']],
  ['an object', { first: 'Ada' }],
];

const INVALID_JSON = [
  '{',
  "{'name':'x'}",
  '{"name":"x",}',
  'NaN',
  '{"amount": NaN}',
  'undefined',
  'null',
  '"x"',
  '1',
  'true',
];

const ALMOST_RIGHT_TOKENS: [string, string][] = [
  ['an empty Authorization header', ''],
  ['another token', 'Bearer wrong-token-0123456789abcdefgh'],
  ['the token minus its last character', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
  ['the token plus one character', `Bearer ${ADMIN_TOKEN}x`],
  ['the token with one letter in the other case', `Bearer ${ADMIN_TOKEN.toUpperCase()}`],
  ['the token without a scheme', ADMIN_TOKEN],
  ['the token as Basic credentials', `Basic ${Buffer.from(`:${ADMIN_TOKEN}`).toString('base64')}`],
  ['the token under another scheme', `Token ${ADMIN_TOKEN}`],
  ['the token after two spaces', `Bearer  ${ADMIN_TOKEN}`],
  ['the token followed by more', `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`],
];

// One origin for every refusal; the suites after it start their own, once it is closed (on Redis
// each origin wipes the Redis it is given).
describe('refusals', () => {
  beforeAll(startOrigin);
  afterAll(() => origin.close());

  describe('wrong methods are 405 with Allow', () => {
    const cases: BadCase[] = ROUTES.flatMap(({ path, allow }) =>
      ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE']
        .filter((method) => !allow.split(', ').includes(method))
        .map((method) => ({
          method,
          path,
          status: 405,
          code: 'method_not_allowed',
          expectHeaders: { Allow: allow },
        })),
    );
    it.each(cases)(title, expectRefused);

    const searches: BadCase[] = [
      ['', 400, 'invalid_query'],
      ['q=', 400, 'invalid_query'],
      [`q=${'a'.repeat(65)}`, 400, 'invalid_query'],
      ['q=a&limit=0', 400, 'invalid_query'],
      ['q=a&limit=51', 400, 'invalid_query'],
      ['q=a&limit=x', 400, 'invalid_query'],
      ['q=a&q=b', 400, 'invalid_query'],
      ['q=a&admin=1', 400, 'invalid_query'],
    ].map(([query, status, code]) => ({
      method: 'GET',
      path: `/boards/demo/players/?${query}`,
      status: Number(status),
      code: String(code),
    }));
    it.each(searches)(title, expectRefused);
  });

  describe('bodies that are not UTF-8 JSON are 415', () => {
    const types: [string, Record<string, string>][] = [
      ['text/plain', { 'content-type': 'text/plain' }],
      ['no Content-Type', {}],
      ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
      ['JSON in latin1', { 'content-type': 'application/json; charset=latin1' }],
      ['JSON in UTF-16', { 'content-type': 'application/json; charset=utf-16' }],
      ['GRIP WebSocket events', { 'content-type': 'application/websocket-events' }],
      ['an unknown Content-Encoding', { ...JSON_TYPE, 'content-encoding': 'compress' }],
    ];
    const cases: (BadCase & { why: string })[] = BODY_ENDPOINTS.flatMap(({ method, path, valid }) =>
      types.map(([why, headers]) => ({
        why,
        method,
        path,
        headers: { ...ADMIN, ...headers },
        body: JSON.stringify(valid),
        status: 415,
        code: 'unsupported_media_type',
      })),
    );
    it.each(cases)(`${title}: $why`, expectRefused);
  });

  describe('bodies that are not a JSON object are 400', () => {
    const cases: BadCase[] = BODY_ENDPOINTS.flatMap(({ method, path }) => [
      ...INVALID_JSON.map((body) => ({
        method,
        path,
        ...adminJson(body),
        status: 400,
        code: 'invalid_json',
      })),
      { method, path, ...adminJson('[]'), status: 400, code: 'invalid_body' },
      { method, path, ...adminJson('[{}]'), status: 400, code: 'invalid_body' },
    ]);
    it.each(cases)(`${title}: $body`, expectRefused);
  });

  describe('bodies over 4 KB are 413', () => {
    const big = (size: number) => JSON.stringify({ name: 'x'.repeat(size) });
    const cases: BadCase[] = BODY_ENDPOINTS.flatMap(({ method, path }) => [
      { method, path, ...adminJson(big(4 * 1024)), status: 413, code: 'body_too_large' },
      { method, path, ...adminJson(big(1024 * 1024)), status: 413, code: 'body_too_large' },
      {
        method,
        path,
        headers: { ...ADMIN, ...JSON_TYPE, 'content-encoding': 'gzip' },
        body: gzipSync(big(1024 * 1024)),
        status: 413,
        code: 'body_too_large',
      },
    ]);
    it.each(cases)(`${title} ($headers.content-encoding)`, expectRefused);
  });

  describe('requests that take no body refuse one', () => {
    const cases: BadCase[] = [
      { method: 'GET', path: '/boards/', ...adminJson({ name: 'x' }) },
      { method: 'GET', path: '/boards/demo/', ...adminJson({}) },
      { method: 'GET', path: '/boards/demo/players/p1/', ...adminJson({}) },
      { method: 'DELETE', path: '/boards/demo/', ...adminJson({ force: true }) },
      { method: 'DELETE', path: '/boards/demo/players/p1/', ...adminJson({}) },
      {
        method: 'GET',
        path: '/boards/',
        headers: { 'content-type': 'text/plain' },
        body: 'hello',
      },
    ].map((c) => ({ ...c, status: 400, code: 'unexpected_body' }));
    it.each(cases)(title, expectRefused);
  });

  describe('the admin token', () => {
    const missing: BadCase[] = ADMIN_ENDPOINTS.map(({ method, path, body }) => ({
      method,
      path,
      ...(body === undefined ? {} : { headers: JSON_TYPE, body: JSON.stringify(body) }),
      status: 401,
      code: 'unauthorized',
      expectHeaders: { 'WWW-Authenticate': /^Bearer / },
    }));
    it.each(missing)(`is required: ${title}`, expectRefused);

    const wrong: (BadCase & { why: string })[] = ADMIN_ENDPOINTS.flatMap(({ method, path, body }) =>
      ALMOST_RIGHT_TOKENS.map(([why, authorization]) => ({
        why,
        method,
        path,
        headers: { authorization, ...(body === undefined ? {} : JSON_TYPE) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        status: 403,
        code: 'forbidden',
      })),
    );
    it.each(wrong)(`must be exact: ${title} with $why`, expectRefused);

    it('is never logged', () => {
      expect(origin.logs.join('\n')).not.toContain(ADMIN_TOKEN);
    });
  });

  describe('score-add: +1 is public, any other amount is admin', () => {
    const path = '/boards/demo/players/p1/score-add/';
    const cases: (BadCase & { why: string })[] = [
      { why: 'amount 2 without a token', body: { amount: 2 }, status: 401, code: 'unauthorized' },
      { why: 'amount -1 without a token', body: { amount: -1 }, status: 401, code: 'unauthorized' },
      {
        why: 'amount 2 with a wrong token',
        body: { amount: 2 },
        token: 'Bearer wrong-token-0123456789abcdefgh',
        status: 403,
        code: 'forbidden',
      },
      {
        why: 'amount 1 with a wrong token',
        body: { amount: 1 },
        token: 'Bearer wrong-token-0123456789abcdefgh',
        status: 403,
        code: 'forbidden',
      },
      { why: 'amount 0', body: { amount: 0 }, status: 400, code: 'invalid_body' },
      { why: 'amount 1.5', body: { amount: 1.5 }, status: 400, code: 'invalid_body' },
      { why: 'amount "1"', body: { amount: '1' }, status: 400, code: 'invalid_body' },
      { why: 'amount null', body: { amount: null }, status: 400, code: 'invalid_body' },
      { why: 'amount true', body: { amount: true }, status: 400, code: 'invalid_body' },
      { why: 'amount [1]', body: { amount: [1] }, status: 400, code: 'invalid_body' },
      { why: 'amount 1e400', body: '{"amount":1e400}', status: 400, code: 'invalid_body' },
      { why: 'an unknown field', body: { amount: 1, by: 'me' }, status: 400, code: 'invalid_body' },
      {
        why: 'admin amount 1e10',
        body: { amount: 1e10 },
        token: `Bearer ${ADMIN_TOKEN}`,
        status: 400,
        code: 'invalid_body',
      },
      {
        why: 'admin amount -1e10',
        body: { amount: -1e10 },
        token: `Bearer ${ADMIN_TOKEN}`,
        status: 400,
        code: 'invalid_body',
      },
      {
        why: 'admin amount 2^53+1',
        body: '{"amount":9007199254740993}',
        token: `Bearer ${ADMIN_TOKEN}`,
        status: 400,
        code: 'invalid_body',
      },
    ].map(({ why, body, token, status, code }) => ({
      why,
      method: 'POST',
      path,
      headers: { ...JSON_TYPE, ...(token === undefined ? {} : { authorization: token }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      status,
      code,
    }));
    it.each(cases)(`${title}: $why`, expectRefused);
  });

  describe('names are trimmed, 1 to 64 characters, without control characters', () => {
    const targets = [
      { method: 'POST', path: '/boards/', body: (name: unknown) => ({ name }) },
      { method: 'POST', path: '/boards/demo/players/', body: (name: unknown) => ({ name }) },
      { method: 'PATCH', path: '/boards/demo/players/p1/', body: (name: unknown) => ({ name }) },
    ];
    const cases: (BadCase & { why: string })[] = targets.flatMap(({ method, path, body }) =>
      BAD_NAMES.map(([why, name]) => ({
        why,
        method,
        path,
        ...adminJson(body(name)),
        status: 400,
        code: 'invalid_body',
      })),
    );
    it.each(cases)(`${title}: $why`, expectRefused);
  });

  describe('other fields are checked and unknown fields refused', () => {
    const cases: (BadCase & { why: string })[] = (
      [
        ['POST', '/boards/', 'no name', { order: 'asc' }],
        ['POST', '/boards/', 'order "up"', { name: 'B', order: 'up' }],
        ['POST', '/boards/', 'order "DESC"', { name: 'B', order: 'DESC' }],
        ['POST', '/boards/', 'order 1', { name: 'B', order: 1 }],
        ['POST', '/boards/', 'order null', { name: 'B', order: null }],
        ['POST', '/boards/', 'an id', { name: 'B', id: 'mine' }],
        ['POST', '/boards/', 'a __proto__ field', '{"name":"B","__proto__":{"admin":true}}'],
        ['POST', '/boards/', 'a constructor field', '{"name":"B","constructor":{}}'],
        ['POST', '/boards/demo/players/', 'no name', {}],
        ['POST', '/boards/demo/players/', 'a score', { name: 'Zed', score: 100 }],
        ['POST', '/boards/demo/players/', 'a __proto__ field', '{"name":"Zed","__proto__":{}}'],
        ['PATCH', '/boards/demo/players/p1/', 'nothing to change', {}],
        ['PATCH', '/boards/demo/players/p1/', 'score 1.5', { score: 1.5 }],
        ['PATCH', '/boards/demo/players/p1/', 'score -1.5', { score: -1.5 }],
        ['PATCH', '/boards/demo/players/p1/', 'score above the maximum', { score: MAX_SCORE + 1 }],
        ['PATCH', '/boards/demo/players/p1/', 'score below the minimum', { score: -MAX_SCORE - 1 }],
        ['PATCH', '/boards/demo/players/p1/', 'score 2^53+1', '{"score":9007199254740993}'],
        ['PATCH', '/boards/demo/players/p1/', 'score 1e400', '{"score":1e400}'],
        ['PATCH', '/boards/demo/players/p1/', 'score "5"', { score: '5' }],
        ['PATCH', '/boards/demo/players/p1/', 'score null', { score: null }],
        ['PATCH', '/boards/demo/players/p1/', 'score true', { score: true }],
        [
          'PATCH',
          '/boards/demo/players/p1/',
          'a good name, a bad score',
          { name: 'Ok', score: 0.5 },
        ],
        ['PATCH', '/boards/demo/players/p1/', 'an id', { id: 'p9' }],
        ['PATCH', '/boards/demo/players/p1/', 'a rank', { rank: 1 }],
        ['PATCH', '/boards/demo/players/p1/', 'scoredAt', { scoredAt: 1 }],
        ['PATCH', '/boards/demo/players/p1/', 'a __proto__ field', '{"__proto__":{"score":1}}'],
        ['POST', '/boards/demo/reset/', 'a field', { scores: 0 }],
      ] as const
    ).map(([method, path, why, body]) => ({
      why,
      method,
      path,
      ...adminJson(body),
      status: 400,
      code: 'invalid_body',
    }));
    it.each(cases)(`${title}: $why`, expectRefused);

    it.each([
      ['POST', '/boards/'],
      ['POST', '/boards/demo/players/'],
      ['PATCH', '/boards/demo/players/p1/'],
    ])('%s %s with an empty body -> 400 invalid_body', (method, path) =>
      expectRefused({
        method,
        path,
        headers: { ...ADMIN, ...JSON_TYPE },
        status: 400,
        code: 'invalid_body',
      }),
    );
  });

  describe('ids: unknown ones are 404, malformed ones are 404 without a lookup', () => {
    const board: (BadCase & { id: string })[] = BOARD_ENDPOINTS.flatMap(
      ({ method, path, body, gripOnly }) => [
        ...WELL_FORMED_UNKNOWN_IDS.map((id) => ({
          id,
          method,
          path: path(id),
          ...(body === undefined ? { headers: ADMIN } : adminJson(body)),
          // The recovery endpoint refuses anyone but the GRIP proxy before it looks anything up.
          ...(gripOnly
            ? { status: 403, code: 'grip_proxy_required' }
            : { status: 404, code: 'not_found' }),
        })),
        ...MALFORMED_IDS.map((id) => ({
          id,
          method,
          path: path(id),
          ...(body === undefined ? { headers: ADMIN } : adminJson(body)),
          status: 404,
          code: 'not_found',
          noLookup: true,
        })),
        {
          id: 'a broken percent escape',
          method,
          path: path('%E0%A4%A'),
          headers: ADMIN,
          status: 400,
          code: 'invalid_path',
          noLookup: true,
        },
      ],
    );
    it.each(board)(`board ${title}`, expectRefused);

    const player: (BadCase & { id: string })[] = PLAYER_ENDPOINTS.flatMap(
      ({ method, path, body }) => [
        ...WELL_FORMED_UNKNOWN_IDS.map((id) => ({
          id,
          method,
          path: path(id),
          ...(body === undefined ? { headers: ADMIN } : adminJson(body)),
          status: 404,
          code: 'not_found',
        })),
        ...MALFORMED_IDS.map((id) => ({
          id,
          method,
          path: path(id),
          ...(body === undefined ? { headers: ADMIN } : adminJson(body)),
          status: 404,
          code: 'not_found',
          noLookup: true,
        })),
      ],
    );
    it.each(player)(`player ${title}`, expectRefused);

    it('a public +1 for an unknown player is 404', () =>
      expectRefused({
        method: 'POST',
        path: '/boards/demo/players/nope/score-add/',
        status: 404,
        code: 'not_found',
      }));
  });

  describe('query parameters', () => {
    const cases: BadCase[] = [
      ['limit=0', 400, 'invalid_query'],
      ['limit=-1', 400, 'invalid_query'],
      ['limit=1.5', 400, 'invalid_query'],
      ['limit=abc', 400, 'invalid_query'],
      ['limit=1e3', 400, 'invalid_query'],
      ['limit=1001', 400, 'invalid_query'],
      ['from=-1', 400, 'invalid_query'],
      ['from=1.5', 400, 'invalid_query'],
      ['from=1000000000', 400, 'invalid_query'],
      ['v=abc', 400, 'invalid_query'],
      ['limit=99999999999999999999', 400, 'invalid_query'],
      ['limit=', 400, 'invalid_query'],
      ['limit=1&limit=2', 400, 'invalid_query'],
      ['lastEventId=abc', 400, 'invalid_query'],
      ['lastEventId=-1', 400, 'invalid_query'],
      ['admin=1', 400, 'invalid_query'],
      ['__proto__=1', 400, 'invalid_query'],
      [`limit=${'9'.repeat(8000)}`, 400, 'invalid_query'],
      ['around=nope', 404, 'not_found'],
      ['around=__proto__', 404, 'not_found'],
    ].map(([query, status, code]) => ({
      method: 'GET',
      path: `/boards/demo/?${query}`,
      status: Number(status),
      code: String(code),
    }));
    it.each(cases)(title, expectRefused);
  });

  describe('a refusal says what is wrong', () => {
    it.each([
      ['POST', '/boards/', { name: 1 }, /^name: Invalid input: expected string, received number$/],
      ['POST', '/boards/', { name: 'B', id: 'x' }, /^Unrecognized key: "id"$/],
      ['POST', '/boards/demo/players/', { name: ' ' }, /^name: must not be empty$/],
      ['PATCH', '/boards/demo/players/p1/', {}, /^give name, score, or both$/],
      ['PATCH', '/boards/demo/players/p1/', { score: 1.5 }, /^score: must be a whole number$/],
    ])('%s %s %j', async (method, path, body, message) => {
      const reply = await origin.send(path, { method, ...adminJson(body) });
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.text).error.message).toMatch(message);
    });

    it('in the query too', async () => {
      const reply = await origin.send('/boards/demo/?limit=abc');
      expect(JSON.parse(reply.text).error.message).toBe('limit: must be a whole number from 1');
    });
  });

  describe('limits and conflicts are 409', () => {
    const cases: (BadCase & { why: string })[] = [
      {
        why: 'MAX_BOARDS reached',
        method: 'POST',
        path: '/boards/',
        ...adminJson({ name: 'One too many' }),
        code: 'limit_reached',
      },
      {
        why: 'MAX_PLAYERS_PER_BOARD reached',
        method: 'POST',
        path: '/boards/demo/players/',
        ...adminJson({ name: 'Zed' }),
        code: 'limit_reached',
      },
      {
        why: 'a name another player has',
        method: 'PATCH',
        path: '/boards/demo/players/p2/',
        ...adminJson({ name: 'Ada' }),
        code: 'name_taken',
      },
      {
        why: 'that name in other case',
        method: 'PATCH',
        path: '/boards/demo/players/p2/',
        ...adminJson({ name: 'ADA' }),
        code: 'name_taken',
      },
      {
        why: 'that name with spaces around',
        method: 'PATCH',
        path: '/boards/demo/players/p2/',
        ...adminJson({ name: '  Ada ' }),
        code: 'name_taken',
      },
      {
        why: 'a score past the maximum (admin)',
        method: 'POST',
        path: `/boards/demo/players/${SEEDED_AT_MAX}/score-add/`,
        ...adminJson({ amount: 1 }),
        code: 'score_out_of_range',
      },
      {
        why: 'a score past the maximum (public +1)',
        method: 'POST',
        path: `/boards/demo/players/${SEEDED_AT_MAX}/score-add/`,
        code: 'score_out_of_range',
      },
    ].map((c) => ({ ...c, status: 409 }));
    it.each(cases)(`${title}: $why`, expectRefused);
  });

  describe('streams need the GRIP proxy', () => {
    const stream = (
      why: string,
      path: string,
      headers: Record<string, string>,
      status: number,
    ) => ({
      why,
      method: 'GET',
      path,
      headers,
      status,
      code: 'grip_proxy_required',
    });
    const sse = { accept: 'text/event-stream' };
    const last = { 'grip-last': 'board-demo; last-id=0' };
    const cases: (BadCase & { why: string })[] = [
      stream('no Grip-Sig', '/boards/demo/', sse, 406),
      stream('a Grip-Sig that is not a JWT', '/boards/demo/', { ...sse, 'grip-sig': 'yes' }, 406),
      stream('no Grip-Sig', '/boards/demo/recover/', last, 403),
      stream(
        'a Grip-Sig that is not a JWT',
        '/boards/demo/recover/',
        { ...last, 'grip-sig': 'yes' },
        403,
      ),
    ];
    it.each(cases)(`${title}: $why`, expectRefused);
  });

  describe('URLs', () => {
    const cases: BadCase[] = [
      { method: 'GET', path: `/boards/${'x'.repeat(8000)}/`, status: 404, code: 'not_found' },
      { method: 'GET', path: `/${'a/'.repeat(4000)}`, status: 404, code: 'not_found' },
      { method: 'GET', path: '/boards/demo/players/', status: 400, code: 'invalid_query' },
      { method: 'GET', path: '/nothing-here', status: 404, code: 'not_found' },
      { method: 'POST', path: '/', status: 404, code: 'not_found' },
      { method: 'GET', path: '/assets', status: 404, code: 'not_found' },
      { method: 'GET', path: '/assets/', status: 404, code: 'not_found' },
      { method: 'GET', path: '/assets/missing.js', status: 404, code: 'not_found' },
      {
        method: 'GET',
        path: '/assets/..%2f..%2fdata%2fleaderboard.json',
        status: 404,
        code: 'not_found',
      },
      { method: 'GET', path: '/..%2fdata%2fleaderboard.json', status: 404, code: 'not_found' },
      { method: 'GET', path: '/%E0%A4%A', status: 404, code: 'not_found' },
    ];
    it.each(cases)(title, expectRefused);

    it('a request line past 16 KB is refused by Node itself (431) and changes nothing', async () => {
      const before = await origin.snapshot();
      const reply = await origin.send(`/boards/${'x'.repeat(20_000)}/`);
      expect(reply.status).toBe(431);
      expect(await origin.snapshot()).toStrictEqual(before);
    });
  });

  describe('HEAD', () => {
    it.each([
      ['/boards/', 200, 'application/json; charset=utf-8'],
      ['/boards/demo/', 200, 'application/json; charset=utf-8'],
      ['/healthz', 200, 'application/json; charset=utf-8'],
      ['/boards/nope/', 404, 'application/json; charset=utf-8'],
      ['/boards/a.b/', 404, 'application/json; charset=utf-8'],
      ['/boards/demo/players/', 400, 'application/json; charset=utf-8'],
      ['/boards/demo/reset/', 405, 'application/json; charset=utf-8'],
    ])('HEAD %s -> %i %s with no body, nothing changed', async (path, status, type) => {
      const before = await origin.snapshot();
      const reply = await origin.send(path, { method: 'HEAD' });
      expect(reply.status).toBe(status);
      expect(reply.headers['content-type']).toBe(type);
      expect(reply.text).toBe('');
      expect(await origin.snapshot()).toStrictEqual(before);
    });
  });

  describe('after every refusal', () => {
    it('no error was logged: nothing reached the 500 path, and no token was written anywhere', () => {
      const errors = origin.logs.filter((line) => JSON.parse(line).level >= 50);
      expect(errors).toStrictEqual([]);
      expect(origin.logs.join('\n')).not.toContain(ADMIN_TOKEN);
    });
  });
});

describe('the edges that are allowed', () => {
  let open: TestOrigin;
  beforeAll(async () => {
    open = await startTestOrigin(STORE);
  });
  afterAll(() => open.close());

  const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    open.send(path, {
      method: 'POST',
      headers: { ...ADMIN, ...(body === undefined ? {} : JSON_TYPE), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it.each([
    ['64 emoji', '😀'.repeat(64), '😀'.repeat(64)],
    ['64 ASCII characters', 'x'.repeat(64), 'x'.repeat(64)],
    ['one character', 'Q', 'Q'],
    ['spaces around it (trimmed)', '  Ada Lovelace \n', 'Ada Lovelace'],
    ['a family emoji (ZWJ sequence)', '👩‍👩‍👧 fam', '👩‍👩‍👧 fam'],
    ['accents and scripts', 'Zoë 張 Ωmega', 'Zoë 張 Ωmega'],
  ])('a name with %s is accepted', async (_why, name, stored) => {
    const reply = await post('/boards/demo/players/', { name });
    expect(reply.status).toBe(201);
    expect(JSON.parse(reply.text)).toMatchObject({ name: stored, score: 0 });
  });

  it.each([
    ['no body', undefined, {}],
    ['an empty JSON object', {}, {}],
    ['amount 1', { amount: 1 }, {}],
    ['charset=utf-8', { amount: 1 }, { 'content-type': 'application/json; charset=utf-8' }],
    ['charset="UTF-8"', { amount: 1 }, { 'content-type': 'application/json; charset="UTF-8"' }],
  ])('a public +1 with %s is accepted', async (_why, body, headers) => {
    const before = JSON.parse((await open.send('/boards/demo/players/p2/')).text).score;
    const reply = await open.send('/boards/demo/players/p2/score-add/', {
      method: 'POST',
      headers: { ...(body === undefined ? {} : JSON_TYPE), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text).score).toBe(before + 1);
  });

  it.each([
    ['the largest score', MAX_SCORE],
    ['the smallest score', -MAX_SCORE],
    ['a negative score', -5],
  ])('PATCH with %s is accepted', async (_why, score) => {
    const reply = await open.send('/boards/demo/players/p3/', {
      method: 'PATCH',
      ...adminJson({ score }),
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text).score).toBe(score);
  });

  it('reset takes no body or an empty object', async () => {
    expect((await post('/boards/demo/reset/')).status).toBe(200);
    expect((await post('/boards/demo/reset/', {})).status).toBe(200);
  });

  // The data file cannot be written: a server error only the embedded store is made to have here.
  it.runIf(STORE.store === 'embedded')(
    'a server error is the JSON shape with a generic message, and logged without the token',
    async () => {
      // Replace the data directory with a file: the next commit cannot write.
      const dataDir = dirname(dataFileOf(open));
      await rm(dataDir, { recursive: true, force: true });
      await writeFile(dataDir, 'not a directory');
      const reply = await post('/boards/demo/players/p1/score-add/', { amount: 1 });
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.text)).toStrictEqual({
        error: { code: 'internal', message: 'something went wrong on the server' },
      });
      expect(open.logs.join('\n')).toMatch(/ENOTDIR|EEXIST/);
      expect(open.logs.join('\n')).not.toContain(ADMIN_TOKEN);
      // Crash-only: with the disk writable again, nothing is served (reads and health included),
      // since memory may be ahead of the disk.
      await rm(dataDir, { force: true });
      await mkdir(dataDir);
      for (const reply of [
        await post('/boards/demo/players/p2/score-add/'),
        await open.send('/boards/demo/', { method: 'GET' }),
        await open.send('/healthz', { method: 'GET' }),
      ]) {
        expect(reply.status).toBe(503);
        expect(JSON.parse(reply.text).error.code).toBe('storage_failed');
      }
    },
  );
});

describe('security headers', () => {
  let web: TestOrigin;
  beforeAll(async () => {
    web = await startTestOrigin({
      ...STORE,
      env: { FRAME_ANCESTORS: "'self' https://embed.example" },
    });
  });
  afterAll(() => web.close());

  it.each([
    ['GET', '/boards/', 200, /^application\/json/],
    ['GET', '/boards/demo/', 200, /^application\/json/],
    ['GET', '/boards/nope/', 404, /^application\/json/],
    ['POST', '/boards/', 401, /^application\/json/],
    ['PUT', '/boards/', 405, /^application\/json/],
    ['GET', '/healthz', 200, /^application\/json/],
    ['GET', '/', 200, /^text\/html/],
    ['GET', '/b/demo', 200, /^text\/html/],
    ['GET', '/assets/app.js', 200, /^text\/javascript|^application\/javascript/],
  ])('%s %s (%i, %s) carries them', async (method, path, status, type) => {
    const reply = await web.send(path, { method });
    expect(reply.status).toBe(status);
    expect(reply.headers['content-type']).toMatch(type);
    const csp = String(reply.headers['content-security-policy']);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'self' https://embed.example",
    ]) {
      expect(csp.split('; ')).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    expect(reply.headers['x-powered-by']).toBeUndefined();
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS', () => {
  const preflight = (origin: string) => ({
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

  describe('closed unless CORS_ORIGINS is set', () => {
    let closed: TestOrigin;
    beforeAll(async () => {
      closed = await startTestOrigin(STORE);
    });
    afterAll(() => closed.close());

    it('a preflight is 405 with no Access-Control-* header', async () => {
      const reply = await closed.send('/boards/', preflight('https://app.example'));
      expect(reply.status).toBe(405);
      expect(JSON.parse(reply.text).error.code).toBe('method_not_allowed');
      expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    });

    it('a cross-origin GET gets its JSON but no Access-Control-Allow-Origin', async () => {
      const reply = await closed.send('/boards/', { headers: { origin: 'https://evil.example' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('open to the listed origins only', () => {
    let cors: TestOrigin;
    beforeAll(async () => {
      cors = await startTestOrigin({
        ...STORE,
        env: { CORS_ORIGINS: 'https://app.example, http://localhost:5173' },
      });
    });
    afterAll(() => cors.close());

    it.each(['https://app.example', 'http://localhost:5173'])(
      'a preflight from %s is 204 and allows that origin',
      async (origin) => {
        const reply = await cors.send('/boards/', preflight(origin));
        expect(reply.status).toBe(204);
        expect(reply.headers['access-control-allow-origin']).toBe(origin);
        expect(reply.headers['access-control-allow-headers']).toMatch(/Authorization/);
        expect(reply.headers.vary).toMatch(/Origin/);
      },
    );

    it.each(['https://evil.example', 'https://app.example.evil.example', 'null'])(
      'a preflight from %s is 405 without Access-Control-Allow-Origin',
      async (origin) => {
        const reply = await cors.send('/boards/', preflight(origin));
        expect(reply.status).toBe(405);
        expect(reply.headers['access-control-allow-origin']).toBeUndefined();
      },
    );

    it.each([
      ['a listed origin', { origin: 'https://app.example' }],
      ['another origin', { origin: 'https://evil.example' }],
      ['no Origin', {}],
    ])(
      'a GET from %s says it varies by Origin (so no cache serves it to another)',
      async (_why, headers) => {
        const reply = await cors.send('/boards/', { headers });
        expect(reply.status).toBe(200);
        expect(reply.headers.vary).toMatch(/Origin/);
      },
    );
  });
});

describe('GET /admin/ (checks a token, changes nothing)', () => {
  let admin: TestOrigin;
  beforeAll(async () => {
    admin = await startTestOrigin(STORE);
  });
  afterAll(() => admin.close());

  it.each([
    ['no token', {}, 401, 'unauthorized'],
    ['a wrong token', { Authorization: `Bearer ${ADMIN_TOKEN}x` }, 403, 'forbidden'],
    ['the admin token', ADMIN, 200, undefined],
  ])('with %s answers %i', async (_why, headers, status, code) => {
    const before = await admin.snapshot();
    const reply = await admin.send('/admin/', { method: 'GET', headers });
    expect(reply.status).toBe(status);
    if (code !== undefined) expect(JSON.parse(reply.text).error.code).toBe(code);
    else expect(JSON.parse(reply.text)).toEqual({ admin: true });
    expect(await admin.snapshot()).toEqual(before);
  });

  it('refuses other methods with 405', async () => {
    const reply = await admin.send('/admin/', { method: 'POST', headers: ADMIN });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET');
  });
});
