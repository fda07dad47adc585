import { describe, expect, it } from 'vitest';
import { type CachePolicy, hasExplicitFreshness, IMMUTABLE_TTL } from './cache-policy.ts';
import { EDGE_OWNED_HEADERS } from './forwarding.ts';
import { decide, type Edge, MAX_TARGET_LENGTH, route } from './router.ts';

const BASE = 'https://leaderboard.example';
const SSE = { Accept: 'text/event-stream' };

interface Call {
  kind: 'handoff' | 'origin';
  request: Request;
  backend?: string;
  cache?: CachePolicy;
}

/** A recording edge: the capabilities answer with a marker so each test sees which one ran. */
function recordingEdge(overrides: Partial<Edge> = {}): { edge: Edge; calls: Call[] } {
  const calls: Call[] = [];
  const edge: Edge = {
    handoff(request, backend) {
      calls.push({ kind: 'handoff', request, backend });
      return new Response('handed off', { status: 200, headers: { 'X-Test': 'handoff' } });
    },
    async fetchOrigin(request, cache) {
      calls.push({ kind: 'origin', request, cache });
      return new Response('{"from":"origin"}', {
        status: 200,
        headers: { 'X-Test': 'origin', 'Content-Type': 'application/json' },
      });
    },
    clientAddress: '203.0.113.7',
    requestId: 'edge-trace-1',
    serviceVersion: '42',
    ...overrides,
  };
  return { edge, calls };
}

async function send(path: string, init?: RequestInit, overrides?: Partial<Edge>) {
  const { edge, calls } = recordingEdge(overrides);
  const response = await route(new Request(`${BASE}${path}`, init), edge);
  return { response, calls };
}

async function errorOf(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(typeof body.error.message).toBe('string');
  return body.error.code;
}

describe('board streams', () => {
  it('hands a GET for a board stream to Fanout, to the origin backend', async () => {
    const { response, calls } = await send('/boards/demo/', { headers: SSE });
    expect(response.headers.get('x-test')).toBe('handoff');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ kind: 'handoff', backend: 'origin' });
    expect(new URL(calls[0]?.request.url ?? '').pathname).toBe('/boards/demo/');
  });

  it('keeps the query string on the handed-off request', async () => {
    const { calls } = await send('/boards/demo/?limit=10', { headers: SSE });
    expect(calls[0]?.request.url).toBe(`${BASE}/boards/demo/?limit=10`);
  });

  it('accepts every id the shared pattern accepts', async () => {
    for (const id of ['a', 'A-z_0-9', 'x'.repeat(32)]) {
      const { calls } = await send(`/boards/${id}/`, { headers: SSE });
      expect(calls[0]?.kind).toBe('handoff');
    }
  });

  it.each([
    ['an id that is too long', `/boards/${'x'.repeat(33)}/`],
    ['an id with a dot', '/boards/de.mo/'],
    ['an encoded character', '/boards/de%20mo/'],
    ['no trailing slash', '/boards/demo'],
    ['the board list', '/boards/'],
    ['a player path', '/boards/demo/players/p1/'],
    ['a doubled slash', '//boards/demo/'],
    ['the root', '/'],
  ])('answers 404 JSON to a stream request for %s, and calls nothing', async (_, path) => {
    const { response, calls } = await send(path, { headers: SSE });
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toBe('not_found');
    expect(calls).toHaveLength(0);
  });

  it('sends a board GET without a stream Accept to the origin, not to Fanout', async () => {
    const { response, calls } = await send('/boards/demo/', { headers: { Accept: '*/*' } });
    expect(response.headers.get('x-test')).toBe('origin');
    expect(calls.map((call) => call.kind)).toEqual(['origin']);
  });

  it('never hands off HEAD, even with a stream Accept', async () => {
    const { calls } = await send('/boards/demo/', { method: 'HEAD', headers: SSE });
    expect(calls.map((call) => call.kind)).toEqual(['origin']);
  });

  it('never hands off a POST with a stream Accept', async () => {
    const { calls } = await send('/boards/demo/players/p1/score-add/', {
      method: 'POST',
      headers: SSE,
    });
    expect(calls.map((call) => call.kind)).toEqual(['origin']);
  });
});

describe('edge-owned routes', () => {
  it('serves the demo manifest from the edge', async () => {
    const { response, calls } = await send('/.well-known/fastly/demo-manifest');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/markdown/);
    const text = await response.text();
    expect(text).toMatch(/^---\nschemaVersion: 1\n/);
    expect(text).toContain('title: Live leaderboards with Fanout');
    expect(calls).toHaveLength(0);
  });

  it('answers health from the edge, whatever the Accept header', async () => {
    for (const headers of [{}, SSE]) {
      const { response, calls } = await send('/edge/health', { headers });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toEqual({ ok: true, service: 'edge', version: '42' });
      expect(calls).toHaveLength(0);
    }
  });

  it('answers HEAD on its own routes with headers and no body', async () => {
    const { response } = await send('/edge/health', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.text()).toBe('');
  });

  it('refuses writes to its own routes with 405 and Allow: GET, HEAD', async () => {
    const { response, calls } = await send('/edge/health', { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(await errorOf(response)).toBe('method_not_allowed');
    expect(calls).toHaveLength(0);
  });

  it('leaves near-miss paths to the origin', async () => {
    for (const path of ['/edge/health/', '/edge/healthz', '/.well-known/fastly/']) {
      const { calls } = await send(path);
      expect(calls.map((call) => call.kind)).toEqual(['origin']);
    }
  });
});

describe('methods', () => {
  it.each(['PUT', 'PROPFIND', 'PURGE', 'patch'])(
    'answers %s with 405 JSON and Allow',
    async (method) => {
      const { response, calls } = await send('/boards/demo/', { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD, POST, PATCH, DELETE, OPTIONS');
      expect(await errorOf(response)).toBe('method_not_allowed');
      expect(calls).toHaveLength(0);
    },
  );

  it.each(['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'])(
    'passes %s to the origin',
    async (method) => {
      const hasBody = method === 'POST' || method === 'PATCH';
      const { response, calls } = await send('/boards/demo/players/p1/', {
        method,
        ...(hasBody
          ? { body: '{"score":3}', headers: { 'Content-Type': 'application/json' } }
          : {}),
      });
      expect(response.headers.get('x-test')).toBe('origin');
      expect(calls).toHaveLength(1);
      const forwarded = calls[0]?.request;
      expect(forwarded?.method).toBe(method);
      if (hasBody) expect(await forwarded?.text()).toBe('{"score":3}');
    },
  );
});

describe('requests to the origin', () => {
  it('passes the origin response through unchanged', async () => {
    const { response } = await send('/boards/');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ from: 'origin' });
  });

  it('keeps path, query and ordinary headers', async () => {
    const { calls } = await send('/boards/demo/?around=p1&limit=5', {
      headers: { Authorization: 'Bearer t', 'X-Custom': 'kept', Accept: 'application/json' },
    });
    const forwarded = calls[0]?.request;
    expect(forwarded?.url).toBe(`${BASE}/boards/demo/?around=p1&limit=5`);
    expect(forwarded?.headers.get('authorization')).toBe('Bearer t');
    expect(forwarded?.headers.get('x-custom')).toBe('kept');
  });

  it('replaces every forwarding header a client could forge', async () => {
    const forged = Object.fromEntries(EDGE_OWNED_HEADERS.map((name) => [name, 'forged']));
    for (const init of [{ headers: forged }, { headers: { ...forged, ...SSE } }]) {
      const { calls } = await send('/boards/demo/', init);
      const headers = calls[0]?.request.headers;
      expect(headers?.get('x-forwarded-for')).toBe('203.0.113.7');
      expect(headers?.get('x-forwarded-host')).toBe('leaderboard.example');
      expect(headers?.get('x-forwarded-proto')).toBe('https');
      for (const name of ['forwarded', 'x-real-ip', 'fastly-client-ip', 'true-client-ip']) {
        expect(headers?.has(name)).toBe(false);
      }
      expect(headers?.has('grip-sig')).toBe(false);
      expect(headers?.has('x-forwarded-port')).toBe(false);
      expect(headers?.get('x-request-id')).toBe('edge-trace-1');
    }
  });

  it('sets no client address when the runtime does not know it', async () => {
    const { calls } = await send(
      '/boards/',
      { headers: { 'X-Forwarded-For': '1.2.3.4' } },
      { clientAddress: '' },
    );
    expect(calls[0]?.request.headers.has('x-forwarded-for')).toBe(false);
  });

  it('reports plain http as the forwarded proto', async () => {
    const { edge, calls } = recordingEdge();
    await route(new Request('http://127.0.0.1:7676/boards/'), edge);
    expect(calls[0]?.request.headers.get('x-forwarded-proto')).toBe('http');
    expect(calls[0]?.request.headers.get('x-forwarded-host')).toBe('127.0.0.1:7676');
  });
});

describe('request ids', () => {
  it('sends the edge’s id to the origin, never the client’s, on both paths', async () => {
    const forged = { 'X-Request-Id': 'client-chosen' };
    for (const headers of [forged, { ...forged, ...SSE }]) {
      const { calls } = await send('/boards/demo/', { headers });
      expect(calls[0]?.request.headers.get('x-request-id')).toBe('edge-trace-1');
    }
  });

  it('answers with the edge’s id, over whatever the origin sent', async () => {
    const { response } = await send('/boards/', undefined, {
      fetchOrigin: async () => new Response('{}', { headers: { 'X-Request-Id': 'cached-one' } }),
    });
    expect(response.headers.get('x-request-id')).toBe('edge-trace-1');
  });

  it.each<[string, string, RequestInit?, Partial<Edge>?]>([
    ['its health route', '/edge/health'],
    ['its manifest', '/.well-known/fastly/demo-manifest'],
    ['a refusal', '/boards/demo/', { method: 'PUT' }],
    ['a bad stream path', '/boards/de.mo/', { headers: SSE }],
    ['an unreachable origin', '/boards/', {}, { fetchOrigin: () => Promise.reject(new Error()) }],
  ])('answers %s with the id too', async (_, path, init, overrides) => {
    const { response } = await send(path, init, { requestId: 'abc123', ...overrides });
    expect(response.headers.get('x-request-id')).toBe('abc123');
  });

  it('leaves a handoff’s response to Fanout', async () => {
    const { response } = await send('/boards/demo/', { headers: SSE });
    expect(response.headers.get('x-test')).toBe('handoff');
    expect(response.headers.has('x-request-id')).toBe(false);
  });
});

describe('cache decisions', () => {
  const policy = (path: string, init?: RequestInit) => {
    const decision = decide(new Request(`${BASE}${path}`, init));
    return decision.action === 'origin' ? decision.cache : decision.action;
  };

  it('caches hashed assets for a year', () => {
    expect(policy('/assets/index-3f2a1b.js')).toEqual({ mode: 'immutable', ttl: IMMUTABLE_TTL });
    expect(policy('/assets/index-3f2a1b.css', { method: 'HEAD' })).toEqual({
      mode: 'immutable',
      ttl: IMMUTABLE_TTL,
    });
  });

  it('leaves API JSON and pages to the origin’s own cache headers', () => {
    expect(policy('/boards/demo/')).toEqual({ mode: 'origin' });
    expect(policy('/')).toEqual({ mode: 'origin' });
    expect(policy('/assets/')).toEqual({ mode: 'origin' });
    expect(policy('/assetsx/a.js')).toEqual({ mode: 'origin' });
  });

  it('never caches writes or requests with credentials', () => {
    expect(policy('/boards/', { method: 'POST' })).toEqual({ mode: 'pass' });
    expect(policy('/boards/demo/', { method: 'DELETE' })).toEqual({ mode: 'pass' });
    expect(policy('/boards/demo/', { method: 'OPTIONS' })).toEqual({ mode: 'pass' });
    expect(policy('/boards/demo/', { headers: { Authorization: 'Bearer x' } })).toEqual({
      mode: 'pass',
    });
    expect(policy('/assets/a.js', { headers: { Cookie: 'a=b' } })).toEqual({ mode: 'pass' });
  });

  it('hands the decision to fetchOrigin', async () => {
    const { calls } = await send('/assets/app-1.js');
    expect(calls[0]?.cache).toEqual({ mode: 'immutable', ttl: IMMUTABLE_TTL });
  });

  it.each<{ name: string; headers: Record<string, string>; fresh: boolean }>([
    { name: 'max-age', headers: { 'Cache-Control': 'public, max-age=60' }, fresh: true },
    { name: 's-maxage', headers: { 'Cache-Control': 's-maxage=5' }, fresh: true },
    { name: 'Surrogate-Control', headers: { 'Surrogate-Control': 'max-age=30' }, fresh: true },
    { name: 'Expires', headers: { Expires: 'Wed, 21 Oct 2099 07:28:00 GMT' }, fresh: true },
    { name: 'no cache headers', headers: {}, fresh: false },
    { name: 'no-store', headers: { 'Cache-Control': 'no-store' }, fresh: false },
    {
      name: 'max-age with private',
      headers: { 'Cache-Control': 'private, max-age=60' },
      fresh: false,
    },
    {
      name: 'max-age with no-cache',
      headers: { 'Cache-Control': 'max-age=60, no-cache' },
      fresh: false,
    },
    { name: 'a bare public', headers: { 'Cache-Control': 'public' }, fresh: false },
  ])('reads $name as explicit freshness: $fresh', ({ headers, fresh }) => {
    expect(hasExplicitFreshness(new Headers(headers))).toBe(fresh);
  });
});

describe('malformed and hostile requests', () => {
  it('refuses a request target longer than the limit with 414', async () => {
    const { response, calls } = await send(`/boards/${'a'.repeat(MAX_TARGET_LENGTH)}/`);
    expect(response.status).toBe(414);
    expect(await errorOf(response)).toBe('uri_too_long');
    expect(calls).toHaveLength(0);
  });

  it('counts the query string towards the limit', async () => {
    const { response } = await send(`/boards/?q=${'a'.repeat(MAX_TARGET_LENGTH)}`);
    expect(response.status).toBe(414);
  });

  it('lets a long but reasonable path through', async () => {
    const { calls } = await send(`/${'a'.repeat(1000)}`);
    expect(calls).toHaveLength(1);
  });

  it('answers 502 JSON when the origin cannot be reached', async () => {
    const { response } = await send('/boards/', undefined, {
      fetchOrigin: () => Promise.reject(new TypeError('connection refused')),
    });
    expect(response.status).toBe(502);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await errorOf(response)).toBe('origin_unreachable');
  });

  it('answers 500 JSON when the handoff throws, without leaking the message', async () => {
    const { response } = await send(
      '/boards/demo/',
      { headers: SSE },
      {
        handoff: () => {
          throw new Error('secret internals');
        },
      },
    );
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('edge_error');
    expect(body.error.message).not.toContain('secret');
  });

  it('answers 502 JSON when fetchOrigin throws synchronously', async () => {
    const { response } = await send('/boards/', undefined, {
      fetchOrigin: () => {
        throw new Error('boom');
      },
    });
    expect(response.status).toBe(502);
  });

  it('sends error responses to HEAD without a body', async () => {
    const { response } = await send(
      '/boards/',
      { method: 'HEAD' },
      {
        fetchOrigin: () => Promise.reject(new Error('down')),
      },
    );
    expect(response.status).toBe(502);
    expect(await response.text()).toBe('');
  });
});
