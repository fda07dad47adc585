import { describe, expect, it } from 'vitest';
import { ApiError, createApi, RETRY_DELAYS_MS } from './client.ts';

/** A fake fetch: answers each call with the next of `outcomes` ('network' throws). */
function scripted(outcomes: Array<number | 'network'>, seen: Request[]) {
  const player = { id: 'p1', name: 'Ann', score: 4, scoredAt: 9 };
  return async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push(new Request(new URL(String(input), 'http://app.test'), init));
    const next = outcomes.shift() ?? 200;
    if (next === 'network') throw new TypeError('Failed to fetch');
    if (next === 200) return Response.json(player);
    return Response.json({ error: { code: 'x', message: 'no' } }, { status: next });
  };
}

function client(outcomes: Array<number | 'network'>) {
  const seen: Request[] = [];
  const waits: number[] = [];
  let keys = 0;
  const api = createApi(scripted(outcomes, seen), {
    newKey: () => `key-${++keys}`,
    wait: async (ms) => {
      waits.push(ms);
    },
  });
  const sentKeys = () => seen.map((request) => request.headers.get('Idempotency-Key'));
  return { api, seen, waits, sentKeys };
}

describe('the +1 button', () => {
  it('sends one Idempotency-Key per click', async () => {
    const { api, sentKeys } = client([200, 200]);
    await api.addPoint('demo', 'p1');
    await api.addPoint('demo', 'p1');
    expect(sentKeys()).toEqual(['key-1', 'key-2']);
  });

  it('retries a click that did not reach the server with the same key, backing off', async () => {
    const { api, sentKeys, waits } = client(['network', 503, 'network', 200]);
    expect(await api.addPoint('demo', 'p1')).toMatchObject({ score: 4 });
    expect(sentKeys()).toEqual(['key-1', 'key-1', 'key-1', 'key-1']);
    expect(waits).toEqual(RETRY_DELAYS_MS);
  });

  it('gives up after the last retry, saying it could not reach the server', async () => {
    const { api, seen } = client(['network', 'network', 'network', 'network', 200]);
    const error = await api.addPoint('demo', 'p1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(0);
    expect(seen).toHaveLength(RETRY_DELAYS_MS.length + 1);
  });

  it('never retries what the server refused (4xx)', async () => {
    for (const status of [409, 429, 404]) {
      const { api, seen } = client([status, 200]);
      const error = await api.addPoint('demo', 'p1').catch((e: unknown) => e);
      expect((error as ApiError).status).toBe(status);
      expect(seen).toHaveLength(1);
    }
  });
});
