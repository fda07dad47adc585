import type { ErrorRequestHandler } from 'express';
import type { ErrorBody } from '../../contract/board.ts';
import { BoardError, type BoardErrorKind, EntriesRefused } from '../domain/errors.ts';
import type { Logger } from '../log.ts';
import { StoreUnavailableError } from '../store/errors.ts';

/**
 * The one error type of the HTTP layer. Whatever refuses a request throws an `HttpError` (or a
 * domain error, mapped below); the central error handler turns it into
 * `{"error": {"code", "message"}}` with its status.
 */
export class HttpError extends Error {
  override name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** For an import: the lines refused, each with what is wrong. */
    readonly lines?: ReadonlyArray<{ line: number; message: string }>,
    /** For a score batch: the entries refused, each with what is wrong. */
    readonly entries?: ReadonlyArray<{ index: number; message: string }>,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);

/** A request that needs the admin token and carries none; says which scheme to use. */
export const unauthorized = (message: string) =>
  new HttpError(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer realm="leaderboard"' });

/** The status and wire code of every domain refusal: the one place they are decided. */
const BOARD_ERRORS: Readonly<Record<BoardErrorKind, { status: number; code: string }>> = {
  board_not_found: { status: 404, code: 'not_found' },
  player_not_found: { status: 404, code: 'not_found' },
  name_taken: { status: 409, code: 'name_taken' },
  limit_reached: { status: 409, code: 'limit_reached' },
  score_out_of_range: { status: 409, code: 'score_out_of_range' },
  id_exhausted: { status: 500, code: 'id_exhausted' },
  invalid_backup: { status: 400, code: 'invalid_backup' },
  season_not_found: { status: 404, code: 'season_not_found' },
  invalid_schedule: { status: 400, code: 'invalid_schedule' },
  operator_mismatch: { status: 409, code: 'operator_mismatch' },
  invalid_entries: { status: 400, code: 'invalid_entries' },
  idempotency_key_reused: { status: 409, code: 'idempotency_key_reused' },
};

/** Maps what the domain, the service, Express and its body parser throw onto the one error type. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof EntriesRefused) {
    return new HttpError(400, 'invalid_entries', error.message, {}, undefined, error.entries);
  }
  if (error instanceof BoardError) {
    const { status, code } = BOARD_ERRORS[error.kind];
    return new HttpError(status, code, error.message);
  }
  if (error instanceof StoreUnavailableError) {
    return new HttpError(503, error.code, error.message);
  }
  // Express's router refuses a path whose percent-escapes do not decode.
  if (error instanceof URIError) {
    return new HttpError(400, 'invalid_path', 'the path is not valid percent-encoded UTF-8');
  }
  return (
    fromBodyParser(error) ?? new HttpError(500, 'internal', 'something went wrong on the server')
  );
}

function fromBodyParser(error: unknown): HttpError | undefined {
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  switch (type) {
    case 'entity.too.large':
      return new HttpError(413, 'body_too_large', `the body is larger than ${sizeOf(error)}`);
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_json', 'the body is not valid JSON');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'unsupported_media_type', 'send the body as UTF-8 JSON');
    case 'request.aborted':
      return new HttpError(400, 'request_aborted', 'the request was aborted');
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', 'the request is not valid');
  }
  return undefined;
}

/** The limit a body went past, in words: `4 KB`, `64 MB`. */
function sizeOf(error: unknown): string {
  const { limit } = error as { limit?: unknown };
  if (typeof limit !== 'number') return 'the limit';
  return limit < 1024 * 1024 ? `${limit / 1024} KB` : `${limit / (1024 * 1024)} MB`;
}

/**
 * The central error handler: every refusal leaves here as the JSON error shape, never a stack. A
 * server error's stack goes to the request's log (`req.log`, which carries the request id).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const httpError = toHttpError(error);
    if (httpError.status >= 500) {
      (req.log ?? logger).error({ err: error }, `answered ${httpError.status} ${httpError.code}`);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    const { code, message, lines, entries } = httpError;
    const body: ErrorBody = {
      error: {
        code,
        message,
        ...(lines === undefined ? {} : { lines: [...lines] }),
        ...(entries === undefined ? {} : { entries: [...entries] }),
      },
    };
    res.status(httpError.status).set(httpError.headers).set('Cache-Control', 'no-store').json(body);
  };
}
