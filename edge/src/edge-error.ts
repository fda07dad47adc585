/** A failure the edge answers itself, as the API's JSON error body `{"error":{"code","message"}}`. */
export class EdgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'EdgeError';
  }
}

/**
 * The one place an error becomes a response. Anything that is not an `EdgeError` is a bug in the
 * edge: it still gets a JSON 500, and its message stays in the log rather than going to clients.
 */
export function errorResponse(error: unknown, method = 'GET'): Response {
  const known =
    error instanceof EdgeError
      ? error
      : new EdgeError(500, 'edge_error', 'The edge failed to handle this request.');
  if (!(error instanceof EdgeError)) console.error('edge: unexpected error', error);
  const body = JSON.stringify({ error: { code: known.code, message: known.message } });
  return new Response(method === 'HEAD' ? null : body, {
    status: known.status,
    headers: {
      ...known.headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    },
  });
}
