/// <reference types="@fastly/js-compute" />
import { CacheOverride } from 'fastly:cache-override';
import { env } from 'fastly:env';
import { createFanoutHandoff } from 'fastly:fanout';
import { type CachePolicy, hasExplicitFreshness, IMMUTABLE_CACHE_CONTROL } from './cache-policy.ts';
import { errorResponse } from './edge-error.ts';
import { ORIGIN_BACKEND, route } from './router.ts';

addEventListener('fetch', (event) => event.respondWith(handle(event)));

async function handle(event: FetchEvent): Promise<Response> {
  try {
    return await route(event.request, {
      handoff: createFanoutHandoff,
      fetchOrigin,
      clientAddress: event.client.address ?? '',
      // Fastly's id for this request, the one its own logs carry (Viceroy numbers its sandboxes).
      requestId: env('FASTLY_TRACE_ID') || crypto.randomUUID(),
      serviceVersion: env('FASTLY_SERVICE_VERSION') || 'local',
    });
  } catch (error) {
    return errorResponse(error, event.request.method);
  }
}

async function fetchOrigin(request: Request, cache: CachePolicy): Promise<Response> {
  const response = await fetch(request, {
    backend: ORIGIN_BACKEND,
    cacheOverride: cacheOverride(cache),
  });
  // `cached` is undefined where the runtime lacks the HTTP cache; say nothing then.
  if (response.cached !== undefined) {
    response.headers.set('X-Cache', response.cached ? 'HIT' : 'MISS');
  }
  return response;
}

function cacheOverride(policy: CachePolicy): CacheOverride {
  switch (policy.mode) {
    case 'pass':
      return new CacheOverride('pass');
    case 'origin':
      // Without this, Fastly would keep a response that has no cache headers for an hour.
      return new CacheOverride('none', {
        afterSend: (response) =>
          hasExplicitFreshness(response.headers) ? undefined : { cache: 'uncacheable' },
      });
    case 'immutable':
      return new CacheOverride('none', {
        afterSend: (response) => {
          // A missing asset may appear with the next deploy: never keep an error for a year.
          if (response.status !== 200) return { cache: false };
          response.ttl = policy.ttl;
          response.headers.set('Cache-Control', IMMUTABLE_CACHE_CONTROL);
          return { cache: true };
        },
      });
  }
}
