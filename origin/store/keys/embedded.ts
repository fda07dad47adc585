import { readFile } from 'node:fs/promises';
import * as z from 'zod/mini';
import type { ApiKeyRecord } from '../../domain/api-keys.ts';
import { DataFileError, DurableJsonFile } from '../json-file.ts';
import { apiKeyRecordSchema, type KeyStore, laterOf, TOUCH_INTERVAL_MS } from './key-store.ts';

/*
 * The embedded store's keys: in memory, over a file of their own beside the data file
 * (`<DATA_FILE>.keys.json`), replaced whole on every change (temporary file, fsync, rename, fsync
 * of the directory). A missing file is no keys, so a data directory of an earlier version simply
 * has none. Last-used times wait in memory and are written with the next change, or on their own
 * at most every `TOUCH_INTERVAL_MS`.
 */

const keyFileSchema = z.object({ format: z.literal(1), keys: z.array(apiKeyRecordSchema) });
type KeyFile = z.infer<typeof keyFileSchema>;

export interface EmbeddedKeyStoreOptions {
  /** How often last-used times are written at most (default `TOUCH_INTERVAL_MS`). */
  touchIntervalMs?: number | undefined;
  /** Hears a background write of last-used times that failed (it is tried again later). */
  onError?: ((error: unknown) => void) | undefined;
}

/** API keys in memory, kept in `path` when given (else in memory only, for tests). */
export class EmbeddedKeyStore implements KeyStore {
  private records = new Map<string, ApiKeyRecord>();
  /** Last-used times not yet written, by key id. */
  private readonly used = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly touchIntervalMs: number;

  private constructor(
    private readonly file: DurableJsonFile<KeyFile> | undefined,
    private readonly options: EmbeddedKeyStoreOptions,
  ) {
    this.touchIntervalMs = options.touchIntervalMs ?? TOUCH_INTERVAL_MS;
  }

  /** Keys in memory only, kept nowhere: for tests and tools. */
  static inMemory(): EmbeddedKeyStore {
    return new EmbeddedKeyStore(undefined, {});
  }

  /** Opens the key file at `path` (none yet is no keys), or a memory-only store without one. */
  static async open(
    path: string | undefined,
    options: EmbeddedKeyStoreOptions = {},
  ): Promise<EmbeddedKeyStore> {
    const file =
      path === undefined
        ? undefined
        : new DurableJsonFile<KeyFile>(path, {
            validate: (value) => z.parse(keyFileSchema, value),
          });
    const store = new EmbeddedKeyStore(file, options);
    if (path !== undefined) {
      for (const record of await readKeyFile(path)) store.records.set(record.id, record);
    }
    return store;
  }

  async create(record: ApiKeyRecord): Promise<void> {
    await this.change((records) => {
      if (records.has(record.id)) throw new Error(`an API key with id ${record.id} exists`);
      records.set(record.id, { ...record, boards: [...record.boards] });
    });
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...this.records.values()].map((record) => this.withUse(record));
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const record = this.records.get(id);
    return record === undefined ? undefined : this.withUse(record);
  }

  revoke(id: string, at: Date): Promise<ApiKeyRecord | undefined> {
    return this.change((records) => {
      const record = records.get(id);
      if (record === undefined || record.revokedAt !== undefined) return record;
      const revoked = { ...record, revokedAt: at.toISOString() };
      records.set(id, revoked);
      return revoked;
    }).then((record) => (record === undefined ? undefined : this.withUse(record)));
  }

  touch(id: string, at: Date): void {
    if (!this.records.has(id)) return;
    const later = laterOf(this.used.get(id), at.toISOString());
    if (later !== undefined) this.used.set(id, later);
    this.timer ??= setTimeout(() => this.flushUse(), this.touchIntervalMs).unref();
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.used.size > 0) await this.change(() => undefined);
    await this.queue.catch(() => undefined);
  }

  private flushUse(): void {
    this.timer = undefined;
    if (this.used.size === 0) return;
    this.change(() => undefined).catch((error: unknown) => this.options.onError?.(error));
  }

  private withUse(record: ApiKeyRecord): ApiKeyRecord {
    return usedAt(record, this.used.get(record.id));
  }

  /**
   * One change at a time: `mutate` works on a copy, the copy (with the last-used times waiting)
   * is written, and only once it is durable does it become the keys in memory.
   */
  private change<T>(mutate: (records: Map<string, ApiKeyRecord>) => T): Promise<T> {
    const run = this.queue.then(async () => {
      const next = new Map(this.records);
      const result = mutate(next);
      const written = new Map(this.used);
      for (const [id, at] of written) {
        const record = next.get(id);
        if (record !== undefined) next.set(id, usedAt(record, at));
      }
      await this.file?.write({ format: 1, keys: [...next.values()] });
      this.records = next;
      for (const [id, at] of written) {
        if (this.used.get(id) === at) this.used.delete(id);
      }
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The record with its last use at `at`, when that is later than the one it has. */
function usedAt(record: ApiKeyRecord, at: string | undefined): ApiKeyRecord {
  const lastUsedAt = laterOf(record.lastUsedAt, at);
  return lastUsedAt === undefined || lastUsedAt === record.lastUsedAt
    ? record
    : { ...record, lastUsedAt };
}

/** The keys in the file, or none when there is no file yet; a file that is not valid stops the start. */
async function readKeyFile(path: string): Promise<ApiKeyRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    return z.parse(keyFileSchema, JSON.parse(text)).keys;
  } catch (error) {
    throw new DataFileError(
      `API key file ${path} is not valid (${(error as Error).message}). Repair it, or move it ` +
        'away to start with no keys (game servers then need new keys).',
    );
  }
}
