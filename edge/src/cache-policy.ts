/**
 * How the edge may cache one origin response. The router decides (pure, tested); the Compute entry
 * turns it into a `CacheOverride`.
 * - `pass`: never cached (writes, and requests carrying credentials).
 * - `origin`: cached only when the origin says so with explicit freshness; Fastly's own default
 *   (an hour for a response without cache headers) would freeze live scores.
 * - `immutable`: content-hashed files, cached for `ttl` seconds when the origin answers 200.
 */
export type CachePolicy =
  | { mode: 'pass' }
  | { mode: 'origin' }
  | { mode: 'immutable'; ttl: number };

/** A year: the usual lifetime of a file whose name changes whenever its content does. */
export const IMMUTABLE_TTL = 31_536_000;

/** `Cache-Control` the edge sends to browsers for immutable assets. */
export const IMMUTABLE_CACHE_CONTROL = `public, max-age=${IMMUTABLE_TTL}, immutable`;

/** Vite writes hashed build output under `/assets/`. */
const ASSET_PREFIX = '/assets/';

/** The cache policy for a request that goes to the origin. */
export function cachePolicy(request: Request, pathname: string): CachePolicy {
  if (request.method !== 'GET' && request.method !== 'HEAD') return { mode: 'pass' };
  if (request.headers.has('authorization') || request.headers.has('cookie')) {
    return { mode: 'pass' };
  }
  if (pathname.startsWith(ASSET_PREFIX) && pathname.length > ASSET_PREFIX.length) {
    return { mode: 'immutable', ttl: IMMUTABLE_TTL };
  }
  return { mode: 'origin' };
}

/**
 * Whether a response states its own freshness for shared caches. `no-store`/`private`/`no-cache`
 * win over any lifetime, as they do in Fastly.
 */
export function hasExplicitFreshness(headers: Headers): boolean {
  const directives = (headers.get('cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((directive) => directive.trim().split('=')[0]?.trim() ?? '');
  if (directives.some((name) => name === 'no-store' || name === 'private' || name === 'no-cache')) {
    return false;
  }
  if (directives.some((name) => name === 'max-age' || name === 's-maxage')) return true;
  const surrogate = (headers.get('surrogate-control') ?? '').toLowerCase();
  return surrogate.includes('max-age') || headers.has('expires');
}
