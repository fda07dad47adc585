import type { ApiKey, CreatedApiKey } from '../../contract/scores.ts';
import { type ApiKeyRecord, apiKeyRecord, newApiKey } from '../domain/api-keys.ts';
import { BoardError } from '../domain/errors.ts';
import type { BoardStore } from '../store/board-store.ts';
import type { KeyStore } from '../store/keys/key-store.ts';

export interface KeyServiceDeps {
  keys: KeyStore;
  /** Where a new key's boards are checked to exist. */
  boards: Pick<BoardStore, 'requireBoard'>;
  now: () => Date;
}

/** What a new key is for: a name, its boards, and its rate (checked by `createApiKeyBody`). */
export interface KeyDetails {
  name: string;
  boards: readonly string[];
  ratePerSecond: number;
  burst: number;
}

/**
 * API keys as the admin manages them: made (the token returned this once), listed and revoked.
 * What leaves here never carries a secret or its hash.
 */
export class KeyService {
  constructor(private readonly deps: KeyServiceDeps) {}

  /** Makes a key for boards that all exist (else `board_not_found` naming the first missing). */
  async create(details: KeyDetails): Promise<CreatedApiKey> {
    const boards = [...new Set(details.boards)];
    for (const boardId of boards) {
      await this.deps.boards.requireBoard(boardId).catch((error: unknown) => {
        if (error instanceof BoardError && error.kind === 'board_not_found') {
          throw new BoardError('board_not_found', `there is no board "${boardId}"`);
        }
        throw error;
      });
    }
    const key = newApiKey();
    const record = apiKeyRecord(key, { ...details, boards }, this.deps.now());
    await this.deps.keys.create(record);
    return { key: publicKey(record), token: key.token };
  }

  async list(): Promise<ApiKey[]> {
    return (await this.deps.keys.list()).map(publicKey);
  }

  /** Revokes a key (a second time changes nothing); undefined when there is no such key. */
  async revoke(id: string): Promise<ApiKey | undefined> {
    const record = await this.deps.keys.revoke(id, this.deps.now());
    return record === undefined ? undefined : publicKey(record);
  }
}

/** A key as the admin sees it: every field named, so a secret hash can never slip through. */
export function publicKey(record: ApiKeyRecord): ApiKey {
  return {
    id: record.id,
    name: record.name,
    boards: [...record.boards],
    ratePerSecond: record.ratePerSecond,
    burst: record.burst,
    createdAt: record.createdAt,
    ...(record.lastUsedAt === undefined ? {} : { lastUsedAt: record.lastUsedAt }),
    ...(record.revokedAt === undefined ? {} : { revokedAt: record.revokedAt }),
  };
}
