import type { Publisher } from '@fanoutio/grip';
import { type Request, type RequestHandler, Router } from 'express';
import * as z from 'zod/mini';
import { ID_PATTERN } from '../../contract/board.ts';
import { boardNotFound, playerNotFound } from '../domain/errors.ts';
import type { Metrics } from '../metrics.ts';
import type { RateLimiter } from '../rate-limit.ts';
import type { BoardService } from '../service/boards.ts';
import type { KeyService } from '../service/keys.ts';
import type { AdminAuth } from './auth.ts';
import { badRequest, HttpError } from './errors.ts';
import type { ScoreAuth } from './score-auth.ts';

// zod/mini carries no messages of its own: refusals name what is wrong in English.
z.config(z.locales.en());

/** What the API's routes are built from; each takes the part it needs. */
export interface ApiDeps {
  service: BoardService;
  auth: AdminAuth;
  /** Who may submit scores to a board: the admin token or an API key scoped to it. */
  scoreAuth: ScoreAuth;
  /** The API keys the admin manages. */
  keys: KeyService;
  limiter: RateLimiter;
  /** Verifies `Grip-Sig` (configured with the proxy's key and issuer). */
  publisher: Publisher;
  /** Seconds between keep-alive comments on idle streams. */
  keepAliveSeconds: number;
  metrics: Metrics;
  /** Largest body `POST /admin/restore/` reads. */
  restoreMaxBytes: number;
}

/**
 * A router for part of the API. Ids in the path are checked before any handler runs, so a
 * malformed one is a 404 that never reaches the database.
 */
export function apiRouter(): Router {
  const router = Router({ strict: false });
  router.param('boardId', (_req, _res, next, value: string) => {
    next(ID_PATTERN.test(value) ? undefined : boardNotFound());
  });
  router.param('playerId', (_req, _res, next, value: string) => {
    next(ID_PATTERN.test(value) ? undefined : playerNotFound());
  });
  return router;
}

/** An id from the path (already checked by `apiRouter`). */
export function param(req: Request, name: 'boardId' | 'playerId'): string {
  const value = req.params[name];
  if (typeof value !== 'string') throw badRequest('invalid_path', `missing ${name}`);
  return value;
}

/**
 * The JSON body checked against a schema, or a 400 `invalid_body` saying what is wrong. A request
 * without a body is refused unless `whenAbsent` stands in for it.
 */
export function parseBody<S extends z.ZodMiniType>(
  req: Request,
  schema: S,
  whenAbsent?: z.input<S>,
): z.output<S> {
  // Express leaves `body` undefined when the request had none (see `jsonBody`).
  const body: unknown = req.body ?? whenAbsent;
  if (body === undefined) {
    throw badRequest('invalid_body', 'expected a JSON body (Content-Type: application/json)');
  }
  return check(schema, body, 'invalid_body');
}

/** The query string checked against a schema, or a 400 `invalid_query`. */
export function parseQuery<S extends z.ZodMiniType>(req: Request, schema: S): z.output<S> {
  return check(schema, req.query, 'invalid_query');
}

/** A value checked against a schema, or a 400 with `code` saying what is wrong (at most 5 things). */
export function check<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  code: string,
): z.output<S> {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const { issues } = result.error;
  const detail = issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  throw badRequest(code, issues.length > 5 ? `${detail}; and ${issues.length - 5} more` : detail);
}

/** Answers every method a route does not serve with 405 and the methods it does. */
export function methodNotAllowed(allow: string): RequestHandler {
  return (req, _res, next) => {
    next(
      new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${allow}`, {
        Allow: allow,
      }),
    );
  };
}
