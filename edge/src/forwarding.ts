/**
 * Request headers only the edge may set. A client can send any of them, so every copy that arrives
 * is dropped before the request goes on; the origin can then trust what it sees.
 * `Grip-Sig` belongs to the GRIP proxy: on the direct path no proxy signed the request, and on
 * the Fanout path Fanout adds its own. `X-Request-Id` names the request in the logs: a client's
 * own would let it pass its requests off as another's.
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
  'x-request-id',
] as const;

/** What the edge knows of one request, beyond the request itself. */
export interface Hop {
  /** The downstream client's IP address; empty when unknown. */
  clientAddress: string;
  /** The request's id, for the logs of the edge and the origin alike. */
  requestId: string;
}

/**
 * The request as the origin should see it: the client's own, minus forged forwarding headers,
 * plus `X-Forwarded-For` (the one client address, not a chain: the edge is the first hop anyone
 * trusts), `X-Forwarded-Host`, `X-Forwarded-Proto` and the edge's `X-Request-Id`.
 */
export function forwardedRequest(request: Request, { clientAddress, requestId }: Hop): Request {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  for (const name of EDGE_OWNED_HEADERS) headers.delete(name);
  if (clientAddress !== '') headers.set('X-Forwarded-For', clientAddress);
  headers.set('X-Request-Id', requestId);
  headers.set('X-Forwarded-Host', url.host);
  headers.set('X-Forwarded-Proto', url.protocol.slice(0, -1));
  return new Request(request, { headers });
}
