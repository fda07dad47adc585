import { describe, expect, it } from 'vitest';
import { ApiError, createApi, errorText, fileNameOf } from './client.ts';

function answering(response: () => Response, seen: Request[] = []): typeof fetch {
  return async (input, init) => {
    seen.push(new Request(new URL(String(input), 'http://app.test'), init));
    return response();
  };
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

describe('createApi', () => {
  it('lists boards from the JSON answer', async () => {
    const boards = [
      { id: 'demo', name: 'Demo board', order: 'desc', operator: 'incr', playerCount: 5 },
    ];
    const api = createApi(answering(() => Response.json({ boards })));
    expect(await api.listBoards()).toEqual(boards);
  });

  it('posts +1 to the score-add path with the ids escaped', async () => {
    const seen: Request[] = [];
    const player = { id: 'p1', name: 'Ann', score: 4, scoredAt: 9 };
    const api = createApi(answering(() => Response.json(player), seen));
    expect(await api.addPoint('demo', 'p 1')).toEqual(player);
    expect(seen[0]?.method).toBe('POST');
    expect(new URL(seen[0]?.url ?? '').pathname).toBe('/boards/demo/players/p%201/score-add/');
  });

  it('parses the error body, the status and Retry-After', async () => {
    const api = createApi(
      answering(() =>
        Response.json(
          { error: { code: 'rate_limited', message: 'Slow down.' } },
          { status: 429, headers: { 'Retry-After': '3' } },
        ),
      ),
    );
    const error = await failure(api.addPoint('demo', 'p1'));
    expect([error.status, error.code, error.message, error.retryAfter]).toEqual([
      429,
      'rate_limited',
      'Slow down.',
      3,
    ]);
  });

  it('still reports an error whose body is not ours', async () => {
    const api = createApi(
      answering(
        () => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' }),
      ),
    );
    const error = await failure(api.getBoard('demo'));
    expect([error.status, error.code, error.message]).toEqual([502, 'http_502', 'Bad Gateway']);
  });

  it('reads a window of a board, with its offset, by limit, from, around and v', async () => {
    const seen: Request[] = [];
    const view = {
      id: 'demo',
      name: 'Demo',
      order: 'desc',
      operator: 'incr',
      version: 9,
      playerCount: 500,
      offset: 100,
      players: [{ id: 'p1', name: 'Ann', score: 4, scoredAt: 9, rank: 101 }],
    };
    const api = createApi(answering(() => Response.json(view), seen));
    expect(await api.getBoard('demo', { limit: 25, from: 100, v: 9 })).toEqual(view);
    await api.getBoard('demo 1', { around: 'p 1', limit: 25 });
    await api.getBoard('demo', { from: 0 });
    await api.getBoard('demo');
    expect(seen.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual([
      '/boards/demo/?limit=25&from=100&v=9',
      '/boards/demo%201/?limit=25&around=p+1',
      '/boards/demo/',
      '/boards/demo/',
    ]);
  });

  it('refuses a board without its offset', async () => {
    const view = { id: 'demo', name: 'Demo', order: 'desc', version: 9, playerCount: 0 };
    const api = createApi(answering(() => Response.json({ ...view, players: [] })));
    expect((await failure(api.getBoard('demo'))).code).toBe('bad_response');
  });

  it('searches players by name prefix, at most `limit`', async () => {
    const seen: Request[] = [];
    const players = [{ id: 'p1', name: 'Ann', score: 4, scoredAt: 9, rank: 7 }];
    const api = createApi(answering(() => Response.json({ players }), seen));
    expect(await api.searchPlayers('demo', 'an & co', { limit: 5 })).toEqual(players);
    await api.searchPlayers('demo', 'b');
    expect(seen.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual([
      '/boards/demo/players/?q=an+%26+co&limit=5',
      '/boards/demo/players/?q=b&limit=10',
    ]);
  });

  it('refuses an answer of the wrong shape', async () => {
    const api = createApi(answering(() => Response.json({ boards: [{ id: 1 }] })));
    expect((await failure(api.listBoards())).code).toBe('bad_response');
  });

  it('turns an unreachable server into a network error', async () => {
    const api = createApi(async () => {
      throw new TypeError('fetch failed');
    });
    const error = await failure(api.listBoards());
    expect([error.status, error.code]).toEqual([0, 'network']);
  });
});

describe('the admin calls', () => {
  it('send the token as a Bearer credential and the body as JSON', async () => {
    const seen: Request[] = [];
    const player = { id: 'p1', name: 'Bo', score: 7, scoredAt: 3, rank: 1 };
    const admin = createApi(answering(() => Response.json(player), seen)).admin('s3cret');
    expect(await admin.updatePlayer('demo', 'p1', { score: 7 })).toEqual(player);
    expect(seen[0]?.method).toBe('PATCH');
    expect(seen[0]?.headers.get('Authorization')).toBe('Bearer s3cret');
    expect(seen[0]?.headers.get('Content-Type')).toBe('application/json');
    expect(await seen[0]?.json()).toEqual({ score: 7 });
  });

  it('take an empty 204 as done', async () => {
    const seen: Request[] = [];
    const admin = createApi(answering(() => new Response(null, { status: 204 }), seen)).admin('t');
    await admin.deleteBoard('demo');
    await admin.removePlayer('demo', 'p1');
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'DELETE /boards/demo/',
      'DELETE /boards/demo/players/p1/',
    ]);
  });

  it('create a board with its schedule, and set or remove a schedule with PATCH', async () => {
    const seen: Request[] = [];
    const board = {
      id: 'cup',
      name: 'Cup',
      order: 'desc',
      operator: 'incr',
      version: 1,
      playerCount: 0,
      offset: 0,
      players: [],
    };
    const admin = createApi(answering(() => Response.json(board), seen)).admin('t');
    const schedule = { every: 'week', weekday: 1, at: '00:00', timeZone: 'Europe/Paris' } as const;
    await admin.createBoard({ name: 'Cup', order: 'desc', operator: 'incr', schedule });
    await admin.setSchedule('cup', schedule);
    await admin.setSchedule('cup', null);
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /boards/',
      'PATCH /boards/cup/',
      'PATCH /boards/cup/',
    ]);
    expect(await Promise.all(seen.map((r) => r.json()))).toEqual([
      { name: 'Cup', order: 'desc', operator: 'incr', schedule },
      { schedule },
      { schedule: null },
    ]);
  });

  it('checks a token with GET /admin/, which changes nothing', async () => {
    const seen: Request[] = [];
    await createApi(answering(() => Response.json({ admin: true }), seen))
      .admin('good')
      .checkToken();
    const refused = () =>
      Response.json(
        { error: { code: 'forbidden', message: 'the admin token is not valid' } },
        { status: 403 },
      );
    const error = await failure(createApi(answering(refused, seen)).admin('bad').checkToken());
    expect([error.status, error.message]).toEqual([403, 'the admin token is not valid']);
    expect(
      seen.map((r) => `${r.method} ${new URL(r.url).pathname} ${r.headers.get('authorization')}`),
    ).toEqual(['GET /admin/ Bearer good', 'GET /admin/ Bearer bad']);
  });
});

describe('the results download', () => {
  const csv = '\uFEFFrank,name,score,id\r\n1,Ada,42,p1\r\n';

  it('fetches the export with the token and keeps the file and the name the server gave', async () => {
    const seen: Request[] = [];
    const answer = () =>
      new Response(csv, {
        headers: {
          'Content-Type': 'text/csv; charset=utf-8; header=present',
          'Content-Disposition': 'attachment; filename="quiz-night-2026-12-02.csv"',
        },
      });
    const file = await createApi(answering(answer, seen)).admin('s3cret').exportBoard('q 1', 'csv');
    expect(file.fileName).toBe('quiz-night-2026-12-02.csv');
    expect(new Uint8Array(await file.blob.arrayBuffer()).slice(0, 3)).toEqual(
      new Uint8Array([0xef, 0xbb, 0xbf]),
    );
    expect(await file.blob.text()).toContain('rank,name,score,id');
    const url = new URL(seen[0]?.url ?? '');
    expect(`${seen[0]?.method} ${url.pathname}${url.search}`).toBe(
      'GET /boards/q%201/export/?format=csv',
    );
    expect(seen[0]?.headers.get('Authorization')).toBe('Bearer s3cret');
    expect(seen[0]?.headers.get('Accept')).toMatch(/^text\/csv\b/);
  });

  it('names the file after the board when the server suggests no name', async () => {
    const admin = createApi(answering(() => Response.json({ board: {} }))).admin('t');
    expect((await admin.exportBoard('demo', 'json')).fileName).toBe('demo.json');
  });

  it('fails with the server’s error, as the other admin calls do', async () => {
    const admin = createApi(
      answering(() =>
        Response.json(
          { error: { code: 'not_found', message: 'No board with id "gone".' } },
          { status: 404 },
        ),
      ),
    ).admin('t');
    const error = await failure(admin.exportBoard('gone', 'csv'));
    expect([error.status, error.code, error.message]).toEqual([
      404,
      'not_found',
      'No board with id "gone".',
    ]);
  });

  it.each<[string, string | null, string | undefined]>([
    ['a quoted name', 'attachment; filename="board-2026-01-01.csv"', 'board-2026-01-01.csv'],
    ['a bare name', 'attachment; filename=board.csv', 'board.csv'],
    ['an escaped quote', 'attachment; filename="a\\"b.csv"', 'a"b.csv'],
    [
      'filename* before filename',
      `attachment; filename="x.csv"; filename*=UTF-8''h%C3%B4tel.csv`,
      'hôtel.csv',
    ],
    [
      'a bad filename*, then filename',
      `attachment; filename*=UTF-8''%E0%A4%A; filename="x.csv"`,
      'x.csv',
    ],
    ['a folder in the name', 'attachment; filename="../../etc/passwd"', 'passwd'],
    ['an empty name', 'attachment; filename=""', undefined],
    ['no name', 'attachment', undefined],
    ['no header', null, undefined],
  ])('reads %s from Content-Disposition', (_, header, name) => {
    expect(fileNameOf(header)).toBe(name);
  });
});

describe('errorText', () => {
  it('makes a sentence of an API message', () => {
    expect(errorText(new ApiError(403, 'forbidden', 'the admin token is not valid'))).toBe(
      'The admin token is not valid.',
    );
    expect(errorText(new Error('Done!'))).toBe('Done!');
  });
});

describe('the admin API keys calls', () => {
  const key = {
    id: 'AAAAAAAAAAAA',
    name: 'EU',
    boards: ['demo'],
    ratePerSecond: 5,
    burst: 10,
    createdAt: '2024-05-01T12:00:00.000Z',
  };

  it('creates a key with the admin token and returns the token shown once', async () => {
    const seen: Request[] = [];
    const token = `lbk_${'A'.repeat(12)}_${'B'.repeat(43)}`;
    const api = createApi(answering(() => Response.json({ key, token }, { status: 201 }), seen));
    const body = { name: 'EU', boards: ['demo'], ratePerSecond: 5, burst: 10 };
    expect(await api.admin('secret').createKey(body)).toEqual({ key, token });
    expect(seen[0]?.method).toBe('POST');
    expect(new URL(seen[0]?.url ?? '').pathname).toBe('/admin/keys/');
    expect(seen[0]?.headers.get('authorization')).toBe('Bearer secret');
    expect(await seen[0]?.json()).toEqual(body);
  });

  it('lists keys and revokes one by its escaped id', async () => {
    const seen: Request[] = [];
    const api = createApi(answering(() => Response.json({ keys: [key] }), seen));
    expect(await api.admin('secret').listKeys()).toEqual([key]);
    await api.admin('secret').revokeKey('a/b');
    expect(seen[1]?.method).toBe('DELETE');
    expect(new URL(seen[1]?.url ?? '').pathname).toBe('/admin/keys/a%2Fb/');
  });
});
