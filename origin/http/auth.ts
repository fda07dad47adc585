import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { parseApiKeyToken } from '../domain/api-keys.ts';
import { HttpError, unauthorized } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks `Authorization: Bearer <token>` against the admin token. Both sides are hashed first so
 * the comparison is constant-time whatever the lengths; the token itself is never logged.
 */
export class AdminAuth {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** True when the request carries the admin token; false when it carries none. */
  isAdmin(req: Request): boolean {
    const header = req.get('authorization');
    if (header === undefined) return false;
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    // An API key is no admin token: it may submit scores and nothing else.
    if (match?.[1] !== undefined && parseApiKeyToken(match[1]) !== undefined) {
      throw unauthorized('an API key may only submit scores; this needs the admin token');
    }
    if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), this.expected)) {
      throw new HttpError(403, 'forbidden', 'the admin token is not valid');
    }
    return true;
  }

  /** Refuses the request unless it carries the admin token. */
  require(req: Request): void {
    if (!this.isAdmin(req)) {
      throw unauthorized('this needs the admin token: Authorization: Bearer <ADMIN_TOKEN>');
    }
  }
}
