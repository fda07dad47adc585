import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import {
  type ApiKeyRecord,
  keyAllows,
  parseApiKeyToken,
  secretMatches,
} from '../domain/api-keys.ts';
import { RateLimiter } from '../rate-limit.ts';
import type { KeyStore } from '../store/keys/key-store.ts';
import { HttpError, unauthorized } from './errors.ts';

/** Who submits scores: the admin, or a game server with an API key. */
export type Principal = { kind: 'admin' } | { kind: 'key'; id: string };

export interface ScoreAuthDeps {
  adminToken: string;
  keys: Pick<KeyStore, 'get' | 'touch'>;
  now?: (() => number) | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

// Compared against when the key id is unknown, so an unknown id costs what a wrong secret does.
const NO_SUCH_KEY = createHash('sha256').update('no such key').digest('hex');

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

const refused = () =>
  unauthorized(
    'this needs an API key for this board or the admin token: Authorization: Bearer <token>',
  );

/**
 * Who may submit scores to a board: the admin token, or an API key scoped to the board. A bearer
 * in the form of a key token (`lbk_<id>_<secret>`) is looked up by its id and its secret compared
 * with the kept hash in constant time; any other is compared with the admin token as `AdminAuth`
 * does (both hashed, then `timingSafeEqual`). Unknown, revoked and wrong tokens are 401, a key
 * outside its boards 403, a key past its own rate 429.
 */
export class ScoreAuth {
  private readonly adminDigest: Buffer;
  private readonly limiters = new Map<string, { limiter: RateLimiter; rate: string }>();
  private readonly now: () => number;

  constructor(private readonly deps: ScoreAuthDeps) {
    this.adminDigest = digest(deps.adminToken);
    this.now = deps.now ?? Date.now;
  }

  /** The principal the request speaks for on this board, or the HttpError refusing it. */
  async authorize(req: Request, boardId: string): Promise<Principal> {
    const token = BEARER.exec(req.get('authorization') ?? '')?.[1];
    if (token === undefined) throw refused();
    const parsed = parseApiKeyToken(token);
    if (parsed === undefined) {
      if (!timingSafeEqual(digest(token), this.adminDigest)) throw refused();
      return { kind: 'admin' };
    }
    const record = await this.deps.keys.get(parsed.id);
    if (!secretMatches(record?.secretHash ?? NO_SUCH_KEY, parsed.secret) || record === undefined) {
      throw refused();
    }
    this.allow(record, boardId);
    this.deps.keys.touch(record.id, new Date(this.now()));
    return { kind: 'key', id: record.id };
  }

  /** Refuses a revoked key (401), a board outside its scope (403), or a rate past its own (429). */
  private allow(record: ApiKeyRecord, boardId: string): void {
    switch (keyAllows(record, boardId)) {
      case 'revoked':
        throw unauthorized('this API key was revoked; ask the admin for a new one');
      case 'out_of_scope':
        throw new HttpError(403, 'forbidden', 'this API key may not submit scores to this board');
      case 'ok':
        break;
    }
    const verdict = this.limiterOf(record).take(record.id);
    if (!verdict.allowed) {
      throw new HttpError(429, 'rate_limited', 'this API key is over its rate; slow down', {
        'Retry-After': String(verdict.retryAfterSeconds),
      });
    }
  }

  /** The key's own bucket, made again if the key's rate changed. */
  private limiterOf(record: ApiKeyRecord): RateLimiter {
    const rate = `${record.ratePerSecond}/${record.burst}`;
    const held = this.limiters.get(record.id);
    if (held?.rate === rate) return held.limiter;
    const limiter = new RateLimiter(record.ratePerSecond, record.burst, this.now);
    this.limiters.set(record.id, { limiter, rate });
    return limiter;
  }
}
