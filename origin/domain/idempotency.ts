import { createHash } from 'node:crypto';

/**
 * Idempotent writes, as Stripe does them: a client sends an `Idempotency-Key` with a write, the
 * first answer is kept for a day, and the same request with the same key gets that answer again
 * instead of writing twice. The same key with a different request is a conflict, not a replay.
 */

/** How long an answer is kept for replay. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * One kept answer, under the key the client sent. Keep records per client (per API key), as
 * Stripe does per account, so that two clients choosing the same key never meet.
 */
export interface IdempotencyRecord {
  key: string;
  /** `requestFingerprint` of the request that was answered. */
  fingerprint: string;
  status: number;
  body: string;
  /** When the answer was kept, in milliseconds since the epoch. */
  createdAt: number;
}

export type Replay =
  | { kind: 'fresh' }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'conflict' };

const MAX_KEY_LENGTH = 255;

/** What is wrong with an `Idempotency-Key` header value, or undefined when it is fine. */
export function checkIdempotencyKey(header: string): string | undefined {
  if (header.length === 0) {
    return `Idempotency-Key: empty; send 1 to ${MAX_KEY_LENGTH} printable ASCII characters, such as a UUID`;
  }
  if (header.length > MAX_KEY_LENGTH) {
    return `Idempotency-Key: ${header.length} characters long; at most ${MAX_KEY_LENGTH}`;
  }
  const bad = /[^\x20-\x7e]/.exec(header);
  if (bad !== null) {
    const code = bad[0].codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0');
    return `Idempotency-Key: U+${code} at position ${bad.index + 1} is not printable ASCII`;
  }
  return undefined;
}

/**
 * The hex SHA-256 of a request: its method, path and body bytes, each preceded by its length so
 * that no two different requests frame the same bytes.
 */
export function requestFingerprint(method: string, path: string, body: Buffer | string): string {
  const hash = createHash('sha256');
  for (const part of [method, path, body]) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(bytes.length));
    hash.update(length).update(bytes);
  }
  return hash.digest('hex');
}

/**
 * What to do with a request given the answer kept under its key: write (`fresh`: nothing kept, or
 * kept more than IDEMPOTENCY_TTL_MS ago), answer the same again (`replay`), or refuse (`conflict`:
 * the key was used for a different request).
 */
export function replayOf(
  record: IdempotencyRecord | undefined,
  fingerprint: string,
  now: number,
): Replay {
  if (record === undefined || now - record.createdAt >= IDEMPOTENCY_TTL_MS)
    return { kind: 'fresh' };
  if (record.fingerprint !== fingerprint) return { kind: 'conflict' };
  return { kind: 'replay', status: record.status, body: record.body };
}
