import { ID_PATTERN } from '../../contract/board.ts';
import { boardIdOfPath } from '../../contract/paths.ts';
import { acceptsEventStream } from '../../contract/stream.ts';
import { type CachePolicy, cachePolicy } from './cache-policy.ts';
import { DEMO_MANIFEST } from './demo-manifest.ts';
import { EdgeError, errorResponse } from './edge-error.ts';
import { forwardedRequest } from './forwarding.ts';

/** The backend name used for both Fanout handoffs and direct fetches (`fastly.toml`). */
export const ORIGIN_BACKEND = 'origin';

/** Methods the API uses; anything else stops at the edge. */
export const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Longer request targets (path and query) are refused; no route of ours comes close. */
export const MAX_TARGET_LENGTH = 4096;

export const MANIFEST_PATH = '/.well-known/fastly/demo-manifest';
export const HEALTH_PATH = '/edge/health';

/** What the Compute runtime gives the router for one request. */
export interface Edge {
  /** Passes the request through Fanout to `backend` (`createFanoutHandoff`). */
  handoff(request: Request, backend: string): Response;
  /** Sends the request to the origin backend, cached as `cache` says. */
  fetchOrigin(request: Request, cache: CachePolicy): Promise<Response>;
  /** The downstream client's IP address (`event.client.address`); empty when unknown. */
  clientAddress: string;
  /**
   * The request's id: Fastly's trace id (`FASTLY_TRACE_ID`), or a fresh UUID where the runtime
   * gives none. Sent to the origin and back to the client as `X-Request-Id`.
   */
  requestId: string;
  /** Named in `/edge/health`: `FASTLY_SERVICE_VERSION` (Viceroy reports `0`). */
  serviceVersion: string;
}

/** What the edge does with a request, as data. */
export type Decision =
  | { action: 'handoff'; backend: string; boardId: string }
  | { action: 'origin'; cache: CachePolicy }
  | { action: 'manifest' }
  | { action: 'health' }
  | { action: 'refuse'; error: EdgeError };

const ALLOW_HEADER = ALLOWED_METHODS.join(', ');

/** Decides, without side effects, how to answer `request`. */
export function decide(request: Request): Decision {
  // Method names are case-sensitive (RFC 9110): `patch` is not PATCH.
  const method = request.method;
  if (!(ALLOWED_METHODS as readonly string[]).includes(method)) {
    return refuse(
      405,
      'method_not_allowed',
      `${method} is not allowed here; use one of ${ALLOW_HEADER}.`,
      { Allow: ALLOW_HEADER },
    );
  }
  const url = new URL(request.url);
  if (url.pathname.length + url.search.length > MAX_TARGET_LENGTH) {
    return refuse(
      414,
      'uri_too_long',
      `Request targets are limited to ${MAX_TARGET_LENGTH} characters.`,
    );
  }

  if (url.pathname === MANIFEST_PATH || url.pathname === HEALTH_PATH) {
    if (method !== 'GET' && method !== 'HEAD') {
      return refuse(405, 'method_not_allowed', `${url.pathname} answers GET and HEAD only.`, {
        Allow: 'GET, HEAD',
      });
    }
    return { action: url.pathname === MANIFEST_PATH ? 'manifest' : 'health' };
  }

  if (method === 'GET' && acceptsEventStream(request.headers.get('accept'))) {
    const boardId = boardIdOfPath(url.pathname);
    if (boardId === undefined || !ID_PATTERN.test(boardId)) {
      return refuse(
        404,
        'not_found',
        'Live streams are served at /boards/<boardId>/ (ids: 1-32 of A-Z a-z 0-9 _ -).',
      );
    }
    return { action: 'handoff', backend: ORIGIN_BACKEND, boardId };
  }

  return { action: 'origin', cache: cachePolicy(request, url.pathname) };
}

/**
 * The edge: answers its own routes, hands board streams to Fanout, sends the rest to the origin.
 * It never throws; every failure is a JSON error response. Every answer but a handoff (which
 * Fanout makes) carries the request's id in `X-Request-Id`.
 */
export async function route(request: Request, edge: Edge): Promise<Response> {
  let response: Response;
  try {
    const decision = decide(request);
    if (decision.action === 'handoff') {
      return edge.handoff(forwardedRequest(request, edge), decision.backend);
    }
    response = await answer(request, decision, edge);
  } catch (error) {
    response = errorResponse(error, request.method);
  }
  response.headers.set('X-Request-Id', edge.requestId);
  return response;
}

async function answer(
  request: Request,
  decision: Exclude<Decision, { action: 'handoff' }>,
  edge: Edge,
): Promise<Response> {
  switch (decision.action) {
    case 'refuse':
      return errorResponse(decision.error, request.method);
    case 'manifest':
      return ownResponse(
        request,
        DEMO_MANIFEST,
        'text/markdown; charset=utf-8',
        'public, max-age=300',
      );
    case 'health':
      return ownResponse(
        request,
        JSON.stringify({ ok: true, service: 'edge', version: edge.serviceVersion }),
        'application/json; charset=utf-8',
        'no-store',
      );
    case 'origin':
      return await fetchOrigin(edge, forwardedRequest(request, edge), decision.cache);
  }
}

async function fetchOrigin(edge: Edge, request: Request, cache: CachePolicy): Promise<Response> {
  try {
    return await edge.fetchOrigin(request, cache);
  } catch (error) {
    console.error('edge: origin fetch failed', error);
    throw new EdgeError(
      502,
      'origin_unreachable',
      'The origin could not be reached; try again shortly.',
    );
  }
}

function ownResponse(
  request: Request,
  body: string,
  contentType: string,
  cacheControl: string,
): Response {
  return new Response(request.method === 'HEAD' ? null : body, {
    status: 200,
    headers: { 'Content-Type': contentType, 'Cache-Control': cacheControl },
  });
}

function refuse(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Decision {
  return { action: 'refuse', error: new EdgeError(status, code, message, headers) };
}
