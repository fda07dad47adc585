import type { Request, Response } from 'express';
import { checkIdempotencyKey, requestFingerprint } from '../domain/idempotency.ts';
import type { BoardService } from '../service/boards.ts';
import type { IdempotentRequest } from '../store/idempotency.ts';
import { rawBodyOf } from './body.ts';
import { badRequest } from './errors.ts';
import type { Principal } from './score-auth.ts';

/*
 * `Idempotency-Key` on every write: the route hands its service call to `idempotent`, which runs
 * it as is without the header, and otherwise through the store's idempotent run (store/
 * idempotency.ts): a retry of the same request within 24 hours gets the first answer again (same
 * status and body, `Idempotent-Replayed: true`) and changes nothing; the same key with another
 * method, path or body is 409 `idempotency_key_reused`. Refusals are not kept: a retry of a
 * refused request is tried again.
 */

/** Whose keys a request's are: one caller never meets another's answers. */
export function scopeOf(principal: Principal | 'public'): string {
  if (principal === 'public') return 'public';
  return principal.kind === 'admin' ? 'admin' : `key:${principal.id}`;
}

/** The caller, and the status a success answers with (201, 200, or 204 without a body). */
export interface IdempotentRoute {
  scope: string;
  status: number;
  /**
   * A write of many steps (an import, a restore, a schedule, an API key): its answer is kept once
   * it is done, not with it (store/idempotency.ts `runAfter`).
   */
  after?: boolean;
}

/** The admin's writes, by the status their success answers with. */
export const ADMIN_OK: IdempotentRoute = { scope: 'admin', status: 200 };
export const ADMIN_CREATED: IdempotentRoute = { scope: 'admin', status: 201 };
export const ADMIN_EMPTY: IdempotentRoute = { scope: 'admin', status: 204 };
/** The same, for writes of many steps. */
export const ADMIN_OK_AFTER: IdempotentRoute = { scope: 'admin', status: 200, after: true };
export const ADMIN_CREATED_AFTER: IdempotentRoute = { scope: 'admin', status: 201, after: true };
export const ADMIN_EMPTY_AFTER: IdempotentRoute = { scope: 'admin', status: 204, after: true };

/** Runs a route's write (`run`) under the request's `Idempotency-Key`, if any, and answers. */
export async function idempotent<T>(
  service: Pick<BoardService, 'idempotent' | 'idempotentAfter'>,
  req: Request,
  res: Response,
  route: IdempotentRoute,
  run: () => Promise<T>,
): Promise<void> {
  const request = idempotentRequestOf(req, route);
  if (request === undefined) {
    send(res, route.status, await run());
    return;
  }
  const outcome =
    route.after === true
      ? await service.idempotentAfter(request, run)
      : await service.idempotent(request, run);
  if (!outcome.replayed) {
    send(res, route.status, outcome.result);
    return;
  }
  res.status(outcome.status).set('Idempotent-Replayed', 'true');
  if (outcome.body === '') res.end();
  else res.type('application/json').send(outcome.body);
}

/** The request's `Idempotency-Key` (checked) with its fingerprint; undefined without one. */
export function idempotentRequestOf(
  req: Request,
  route: IdempotentRoute,
): IdempotentRequest | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  const problem = checkIdempotencyKey(key);
  if (problem !== undefined) throw badRequest('invalid_idempotency_key', problem);
  const fingerprint = requestFingerprint(req.method, req.originalUrl, rawBodyOf(req));
  return { scope: route.scope, status: route.status, key, fingerprint };
}

function send(res: Response, status: number, result: unknown): void {
  if (result === undefined) res.status(status).end();
  else res.status(status).json(result);
}
