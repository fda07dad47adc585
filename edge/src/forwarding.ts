/**
 * Request headers only the edge may set. A client can send any of them, so every copy that arrives
 * is dropped before the request goes on; the origin can then trust what it sees.
 * `Grip-Sig` belongs to the GRIP proxy: on the direct path no proxy signed the request, and on
 * the Fanout path Fanout adds its own.
 */
export const EDGE_OWNED_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  'fastly-client-ip',
  'true-client-ip',
  'grip-sig',
] as const;

/**
 * The request as the origin should see it: the client's own, minus forged forwarding headers,
 * plus `X-Forwarded-For` (the one client address, not a chain: the edge is the first hop anyone
 * trusts), `X-Forwarded-Host` and `X-Forwarded-Proto`.
 */
export function forwardedRequest(request: Request, clientAddress: string): Request {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  for (const name of EDGE_OWNED_HEADERS) headers.delete(name);
  if (clientAddress !== '') headers.set('X-Forwarded-For', clientAddress);
  headers.set('X-Forwarded-Host', url.host);
  headers.set('X-Forwarded-Proto', url.protocol.slice(0, -1));
  return new Request(request, { headers });
}
