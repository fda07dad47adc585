import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, createClient } from './client.ts';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

// A stand-in for the API: records each request and answers what the test set.
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
let answer: { status: number; body?: unknown } = { status: 200 };

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      body,
    });
    res.writeHead(answer.status, { 'Content-Type': 'application/json' });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen.length = 0;
});

const player = { id: 'p 1', name: 'Ada', score: 3, scoredAt: 2, rank: 1 };
const board = {
  id: 'b/1',
  name: 'Quiz',
  order: 'desc',
  operator: 'incr',
  version: 2,
  playerCount: 1,
  offset: 0,
  players: [],
};

describe('createClient', () => {
  it('sends a public +1 to the contract path, ids escaped, without the token', async () => {
    answer = { status: 200, body: player };
    const client = createClient(baseUrl, 'secret');
    expect(await client.scoreAdd('b/1', 'p 1')).toEqual(player);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/boards/b%2F1/players/p%201/score-add/',
        authorization: undefined,
        body: '{"amount":1}',
      },
    ]);
  });

  it('sends the admin token where the API needs it, and the window of a board as its query', async () => {
    const client = createClient(baseUrl, 'secret');
    answer = { status: 201, body: board };
    await client.createBoard('Quiz', 'asc');
    answer = { status: 200, body: board };
    await client.getBoard('b/1', { limit: 10, around: 'p 1' });
    await client.getBoard('b/1', { limit: 25, from: 50 });
    expect(seen.map((s) => [s.method, s.url, s.authorization, s.body])).toEqual([
      ['POST', '/boards/', 'Bearer secret', '{"name":"Quiz","order":"asc"}'],
      ['GET', '/boards/b%2F1/?limit=10&around=p+1', undefined, ''],
      ['GET', '/boards/b%2F1/?limit=25&from=50', undefined, ''],
    ]);
  });

  it('throws an ApiError with the answer on another status', async () => {
    answer = { status: 404, body: { error: { code: 'not_found', message: 'no such board' } } };
    const error = await createClient(baseUrl)
      .getBoard('nope')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).response.status).toBe(404);
    expect((error as ApiError).message).toContain('no such board');
  });

  it('throws an ApiError when the body does not fit the contract', async () => {
    answer = { status: 200, body: { ...player, score: 'three' } };
    await expect(createClient(baseUrl).getPlayer('b', 'p')).rejects.toThrow(/does not describe/);
  });

  it('refuses an admin call without a token before sending anything', async () => {
    await expect(createClient(baseUrl).deleteBoard('b')).rejects.toThrow(/no admin token/);
    expect(seen).toEqual([]);
  });

  it('answers any request raw, for callers that check statuses', async () => {
    answer = { status: 405, body: { error: { code: 'method_not_allowed', message: 'no' } } };
    const response = await createClient(baseUrl).request('PUT', 'boards/');
    expect(response.status).toBe(405);
    expect(response.body).toEqual({ error: { code: 'method_not_allowed', message: 'no' } });
  });
});
