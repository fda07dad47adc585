import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { idempotencyKeyReused } from '../domain/errors.ts';
import { type IdempotencyRecord, replayOf } from '../domain/idempotency.ts';

/*
 * Idempotent writes through the store (domain/idempotency.ts has the rules). The HTTP layer runs
 * a write inside `BoardStore.idempotent(request, run)`; the store method that makes the change
 * finds the request here (AsyncLocalStorage, so no store method takes it as an argument) and, in
 * the same atomic step as the change, either answers what was kept under the key instead of
 * changing anything, or keeps its own answer with the change.
 */

/** A write that may be a retry: who sent it, under which key, and what it was. */
export interface IdempotentRequest {
  /** Whose keys these are: 'admin', 'key:<api key id>', or 'public'. */
  scope: string;
  /** The `Idempotency-Key` header, checked (`checkIdempotencyKey`). */
  key: string;
  /** `requestFingerprint` of the method, path and body. */
  fingerprint: string;
  /** The status a success answers with (kept with the answer). */
  status: number;
}

/** What an idempotent write did: changed and answered, or answered what was kept. */
export type IdempotentOutcome<T> =
  | { replayed: false; result: T }
  | { replayed: true; status: number; body: string };

/** The request a store method runs for, and what it found. */
export interface IdempotencyContext {
  request: IdempotentRequest;
  /** `idempotencyId` of the request's scope and key. */
  id: string;
  /** Set by a store that decoded a kept answer as if fresh (Redis). */
  replayed?: boolean;
  /** Set once a change kept its answer: later changes in the same run keep none. */
  kept?: boolean;
}

export const idempotencyContext = new AsyncLocalStorage<IdempotencyContext>();

/** Where an answer is kept: the SHA-256 of the scope and the key (never the key itself). */
export function idempotencyId(scope: string, key: string): string {
  return createHash('sha256').update(scope).update('\0').update(key).digest('hex');
}

/** Thrown out of a store method that found a kept answer: what to send instead. */
export class Replayed extends Error {
  override name = 'Replayed';

  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super('replayed');
  }
}

/**
 * Runs `run` with `request` in context and says what happened: the store's part is to consult
 * and keep answers in its change (embedded) or its script (Redis).
 */
export async function runIdempotent<T>(
  request: IdempotentRequest,
  run: () => Promise<T>,
): Promise<IdempotentOutcome<T>> {
  const context: IdempotencyContext = { request, id: idempotencyId(request.scope, request.key) };
  try {
    const result = await idempotencyContext.run(context, run);
    if (context.replayed === true) {
      return { replayed: true, status: request.status, body: JSON.stringify(result) ?? '' };
    }
    return { replayed: false, result };
  } catch (error) {
    if (error instanceof Replayed)
      return { replayed: true, status: error.status, body: error.body };
    throw error;
  }
}

/** Where answers kept after their write (not with it) are looked up and put. */
export interface AnswerShelf {
  get(id: string): Promise<IdempotencyRecord | undefined>;
  /** Resolves once the answer is durable. */
  put(id: string, record: IdempotencyRecord): Promise<void>;
}

/**
 * An idempotent write whose answer is kept after it, not in the same atomic step: for writes of
 * many steps (an import, a restore, an API key, a board's schedule). A retry gets the first
 * answer and a reused key the refusal, as for the others; but a crash between the write and the
 * keeping of its answer, or a retry sent while the first is still running, runs it again. Those
 * writes are safe to run twice (an import refuses or skips names already there, a restore and a
 * schedule set the same state, a revoke keeps the first time; a key made twice is two keys).
 */
export async function runAfter<T>(
  shelf: AnswerShelf,
  request: IdempotentRequest,
  run: () => Promise<T>,
  now: () => number,
): Promise<IdempotentOutcome<T>> {
  const id = idempotencyId(request.scope, request.key);
  const verdict = replayOf(await shelf.get(id), request.fingerprint, now());
  if (verdict.kind === 'replay')
    return { replayed: true, status: verdict.status, body: verdict.body };
  if (verdict.kind === 'conflict') throw idempotencyKeyReused();
  const result = await run();
  const body = JSON.stringify(result) ?? '';
  const { fingerprint, status } = request;
  await shelf.put(id, { key: id, fingerprint, status, body, createdAt: now() });
  return { replayed: false, result };
}
