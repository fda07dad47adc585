import type { Request, Response } from 'express';
import { checkIdempotencyKey, requestFingerprint } from '../domain/idempotency.ts';
import type { BoardService } from '../service/boards.ts';
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
}

/** The admin's writes, by the status their success answers with. */
export const ADMIN_OK: IdempotentRoute = { scope: 'admin', status: 200 };
export const ADMIN_CREATED: IdempotentRoute = { scope: 'admin', status: 201 };
export const ADMIN_EMPTY: IdempotentRoute = { scope: 'admin', status: 204 };

/** Runs a route's write (`run`) under the request's `Idempotency-Key`, if any, and answers. */
export async function idempotent<T>(
  service: Pick<BoardService, 'idempotent'>,
  req: Request,
  res: Response,
  route: IdempotentRoute,
  run: () => Promise<T>,
): Promise<void> {
  const key = req.get('idempotency-key');
  if (key === undefined) {
    send(res, route.status, await run());
    return;
  }
  const problem = checkIdempotencyKey(key);
  if (problem !== undefined) throw badRequest('invalid_idempotency_key', problem);
  const fingerprint = requestFingerprint(req.method, req.originalUrl, rawBodyOf(req));
  const outcome = await service.idempotent({ ...route, key, fingerprint }, run);
  if (!outcome.replayed) {
    send(res, route.status, outcome.result);
    return;
  }
  res.status(outcome.status).set('Idempotent-Replayed', 'true');
  if (outcome.body === '') res.end();
  else res.type('application/json').send(outcome.body);
}

function send(res: Response, status: number, result: unknown): void {
  if (result === undefined) res.status(status).end();
  else res.status(status).json(result);
}
