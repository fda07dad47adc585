import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys for game servers writing scores. A key's token, `lbk_<id>_<secret>`, is shown once when
 * the key is made; only the SHA-256 of the secret is kept, looked up by the id. The secret is 32
 * random bytes, so one unsalted hash is enough: there is no password to guess.
 */

/** What to keep of a key: its id, who it is for, where it may write, and how fast. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The ids of the boards the key may write to. */
  boards: string[];
  /** The hex SHA-256 of the secret; the secret itself is never kept. */
  secretHash: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
  /** The sustained rate of writes allowed, and how many may come at once above it. */
  ratePerSecond: number;
  burst: number;
}

/** A new key: the token to show once, and the id and hash to keep. */
export interface NewApiKey {
  id: string;
  token: string;
  secretHash: string;
}

/** Makes a key: 9 random bytes of id (12 base64url characters), 32 of secret. */
export function newApiKey(): NewApiKey {
  const id = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `lbk_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/**
 * The record to keep for a new key. It takes the id and the hash and nothing else, so a token
 * passed along with them cannot end up stored.
 */
export function apiKeyRecord(
  key: { id: string; secretHash: string },
  details: { name: string; boards: readonly string[]; ratePerSecond: number; burst: number },
  now: Date,
): ApiKeyRecord {
  return {
    id: key.id,
    name: details.name,
    boards: [...details.boards],
    secretHash: key.secretHash,
    createdAt: now.toISOString(),
    ratePerSecond: details.ratePerSecond,
    burst: details.burst,
  };
}

// The id and the secret are base64url, whose alphabet has `_` too: the lengths split the token.
const TOKEN_PATTERN = /^lbk_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;

/** The id and secret of a token in exactly the form `newApiKey` makes, or undefined. */
export function parseApiKeyToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  if (match === null) return undefined;
  const [, id = '', secret = ''] = match;
  // 43 characters carry 258 bits: the last two must be zero, as in every secret we made.
  if (Buffer.from(secret, 'base64url').toString('base64url') !== secret) return undefined;
  return { id, secret };
}

/** Whether the secret is the one whose hash was kept, in time that does not depend on where they differ. */
export function secretMatches(secretHash: string, secret: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(secretHash)) return false;
  return timingSafeEqual(
    Buffer.from(secretHash, 'hex'),
    createHash('sha256').update(secret).digest(),
  );
}

/** Whether the key may write to this board now. */
export function keyAllows(
  record: ApiKeyRecord,
  boardId: string,
): 'ok' | 'revoked' | 'out_of_scope' {
  if (record.revokedAt !== undefined) return 'revoked';
  return record.boards.includes(boardId) ? 'ok' : 'out_of_scope';
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
