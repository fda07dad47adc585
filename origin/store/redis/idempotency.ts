import { idempotencyKeyReused } from '../../domain/errors.ts';
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord } from '../../domain/idempotency.ts';
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

/** An answer kept outside a board's slot as the record `replayOf` reads. */
export function keptRecord(id: string, status: number, kept: string): IdempotencyRecord {
  const answer = JSON.parse(kept) as OutsideAnswer & { status?: number };
  return { key: id, status: answer.status ?? status, ...answer };
}
