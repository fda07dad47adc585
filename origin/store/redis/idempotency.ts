import { idempotencyKeyReused } from '../../domain/errors.ts';
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord, replayOf } from '../../domain/idempotency.ts';
import { type IdempotencyContext, idempotencyContext } from '../idempotency.ts';

/*
 * Idempotent requests on Redis (store/idempotency.ts has the design). A change script made with
 * `idempotentScript` (scripts.ts) gets the answer's key and the request's fingerprint, keeps its
 * raw reply with the change, and answers a kept one instead of changing anything: Node then reads
 * that reply as if fresh and marks the answer replayed.
 *
 * A write that is not one script in a board's slot (creating a board: the board has no slot yet)
 * keeps its answer JSON under `{idem}:<sha>` after the write: NOT atomic with it. A crash between
 * the two, and a retry makes a second board.
 */

/** Where a board's answers are kept: in its slot. */
export function boardAnswerKey(metaKey: string, id: string): string {
  return `${metaKey.slice(0, -'meta'.length)}idem:${id}`;
}

/** Where answers of writes outside any board's slot are kept (creating a board). */
export function outsideAnswerKey(id: string): string {
  return `{idem}:${id}`;
}

/**
 * The KEYS and ARGV an idempotent script is called with: the answer's key last among the keys,
 * then fingerprint, time and time to keep last among the arguments ('' fingerprint: no request,
 * or one whose answer an earlier change of the same run kept).
 */
export function idempotentCall(
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
  now: number,
): { keys: string[]; args: Array<string | number>; context: IdempotencyContext | undefined } {
  const context = idempotencyContext.getStore();
  const active = context !== undefined && context.kept !== true ? context : undefined;
  const key = boardAnswerKey(keys[0] ?? '', active?.id ?? '');
  const fingerprint = active?.request.fingerprint ?? '';
  return {
    keys: [...keys, key],
    args: [...args, fingerprint, now, IDEMPOTENCY_TTL_MS],
    context: active,
  };
}

/**
 * The change's reply out of the script's { state, reply }: marks the request replayed, or throws
 * `idempotency_key_reused`.
 */
export function unwrapIdempotent(reply: unknown, context: IdempotencyContext | undefined): unknown {
  if (!Array.isArray(reply)) throw new Error(`expected { state, reply } from Redis, got ${reply}`);
  const [state, inner] = reply as unknown[];
  if (state === 'conflict') throw idempotencyKeyReused();
  if (context !== undefined) {
    context.kept = true;
    if (state === 'replay') context.replayed = true;
  }
  return inner;
}

/** An answer kept outside a board's slot, as stored. */
interface OutsideAnswer {
  fingerprint: string;
  createdAt: number;
  body: string;
}

/**
 * Before a write outside any board's slot: the kept answer's result when the request is a retry
 * (marked replayed), undefined when it is fresh; throws `idempotency_key_reused`.
 */
export function keptOutside(
  kept: string | null,
  context: IdempotencyContext,
  now: number,
): unknown {
  if (kept === null) return undefined;
  const answer = JSON.parse(kept) as OutsideAnswer;
  const record = { ...answer, key: context.id, status: context.request.status };
  const verdict = replayOf(record, context.request.fingerprint, now);
  if (verdict.kind === 'conflict') throw idempotencyKeyReused();
  if (verdict.kind === 'fresh') return undefined;
  context.replayed = true;
  context.kept = true;
  return JSON.parse(verdict.body) as unknown;
}

/** An answer kept outside a board's slot as the record `replayOf` reads. */
export function keptRecord(id: string, status: number, kept: string): IdempotencyRecord {
  const answer = JSON.parse(kept) as OutsideAnswer & { status?: number };
  return { key: id, status: answer.status ?? status, ...answer };
}

/** What to keep after a write outside any board's slot. */
export function outsideAnswer(context: IdempotencyContext, result: unknown, now: number): string {
  context.kept = true;
  const answer: OutsideAnswer = {
    fingerprint: context.request.fingerprint,
    createdAt: now,
    body: JSON.stringify(result) ?? '',
  };
  return JSON.stringify(answer);
}
