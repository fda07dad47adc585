import * as z from 'zod/mini';
import type { ApiKeyRecord } from '../../domain/api-keys.ts';

/**
 * Where API keys are kept: the record of each key (its id, scope, rate and the SHA-256 of its
 * secret, never the secret), in the embedded store's own file or in Redis.
 */
export interface KeyStore {
  /** Keeps a new key; resolves once it is durable. */
  create(record: ApiKeyRecord): Promise<void>;
  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ApiKeyRecord[]>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Revokes a key, durably; a key revoked before keeps its first `revokedAt`. The record as it is
   * now, or undefined when there is no such key.
   */
  revoke(id: string, at: Date): Promise<ApiKeyRecord | undefined>;
  /**
   * Notes that the key was used. Kept in memory and written in the background at most every
   * `TOUCH_INTERVAL_MS`: a submission never waits for it, and a crash may lose the last few
   * seconds of last-used times (nothing else).
   */
  touch(id: string, at: Date): void;
  /** Writes the last-used times still waiting, and stops the background writes. */
  close(): Promise<void>;
}

/** How often last-used times are written, at most. */
export const TOUCH_INTERVAL_MS = 10_000;

const isoTime = z.string().check(z.minLength(1));

/** A stored key record, checked when read back (a file or a Redis hash field). */
export const apiKeyRecordSchema = z.object({
  id: z.string().check(z.regex(/^[A-Za-z0-9_-]{12}$/)),
  name: z.string(),
  boards: z.array(z.string()),
  secretHash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  createdAt: isoTime,
  lastUsedAt: z.exactOptional(isoTime),
  revokedAt: z.exactOptional(isoTime),
  ratePerSecond: z.int().check(z.positive()),
  burst: z.int().check(z.positive()),
});

/** The later of two ISO 8601 times (UTC, as `toISOString` writes them), either possibly absent. */
export function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a >= b ? a : b;
}
