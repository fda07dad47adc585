import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type ApiKeyRecord,
  apiKeyRecord,
  keyAllows,
  newApiKey,
  parseApiKeyToken,
  secretMatches,
} from './api-keys.ts';

const secretOf = (token: string) => parseApiKeyToken(token)?.secret ?? 'not a token';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('newApiKey', () => {
  it('makes a token lbk_<12-character id>_<43-character secret>, base64url', () => {
    const key = newApiKey();
    expect(key.id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(key.token).toMatch(/^lbk_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.token.startsWith(`lbk_${key.id}_`)).toBe(true);
    expect(Buffer.from(secretOf(key.token), 'base64url')).toHaveLength(32);
  });

  it('keeps the hex SHA-256 of the secret', () => {
    const key = newApiKey();
    expect(key.secretHash).toBe(sha256(secretOf(key.token)));
  });

  it('makes a different id and secret each time', () => {
    const keys = Array.from({ length: 50 }, newApiKey);
    expect(new Set(keys.map((key) => key.id)).size).toBe(50);
    expect(new Set(keys.map((key) => secretOf(key.token))).size).toBe(50);
  });
});

describe('parseApiKeyToken', () => {
  const key = newApiKey();
  const secret = secretOf(key.token);

  it('gives back the id and the secret', () => {
    expect(parseApiKeyToken(key.token)).toEqual({ id: key.id, secret });
  });

  it('splits by length, since base64url has underscores of its own', () => {
    const id = 'ab_cd-ef_gh_';
    const tricky = `lbk_${id}_${'_'.repeat(42)}A`;
    expect(parseApiKeyToken(tricky)).toEqual({ id, secret: `${'_'.repeat(42)}A` });
  });

  it('refuses near misses', () => {
    const nearMisses = [
      '',
      key.token.slice(0, -1),
      `${key.token}A`,
      ` ${key.token}`,
      `${key.token}\n`,
      key.token.replace('lbk_', 'LBK_'),
      key.token.replace('lbk_', 'lbk-'),
      key.token.replace('lbk_', 'lbx_'),
      `lbk_${key.id}-${secret}`,
      `lbk_${key.id.slice(1)}_${secret}`,
      `lbk_${key.id}x_${secret}`,
      `lbk_${key.id}_${secret.slice(0, 42)}=`,
      `lbk_${key.id}_${secret.slice(0, 42)}+`,
      `lbk_${key.id}_${secret.slice(0, 42)}/`,
      `lbk_${key.id}_${secret.slice(0, 42)}é`,
      // The last character of 32 bytes in base64url only ever has four bits set.
      `lbk_${key.id}_${secret.slice(0, 42)}B`,
      `lbk_${key.id}_${secret}`.replace(/^lbk_/, 'lbk__'),
      `Bearer ${key.token}`,
    ];
    for (const token of nearMisses) expect(parseApiKeyToken(token), token).toBeUndefined();
  });
});

describe('secretMatches', () => {
  it('is true for the secret of the key and false for any other', () => {
    const key = newApiKey();
    const secret = secretOf(key.token);
    expect(secretMatches(key.secretHash, secret)).toBe(true);
    expect(secretMatches(key.secretHash, secretOf(newApiKey().token))).toBe(false);
    const oneOff = `${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`;
    expect(secretMatches(key.secretHash, oneOff)).toBe(false);
    expect(secretMatches(key.secretHash, '')).toBe(false);
  });

  it('is false, and does not throw, for a kept hash that is not one', () => {
    const secret = secretOf(newApiKey().token);
    for (const hash of [
      '',
      'abc',
      sha256(secret).slice(0, 63),
      `${sha256(secret)}00`,
      'zz'.repeat(32),
    ]) {
      expect(secretMatches(hash, secret), hash).toBe(false);
    }
    expect(secretMatches(sha256(secret).toUpperCase(), secret)).toBe(false);
  });
});

describe('the key record', () => {
  const now = new Date('2026-05-01T12:00:00Z');
  const details = { name: 'EU game servers', boards: ['b1', 'b2'], ratePerSecond: 20, burst: 40 };

  it('holds the id, the hash and the details', () => {
    const key = newApiKey();
    expect(apiKeyRecord(key, details, now)).toEqual({
      id: key.id,
      name: 'EU game servers',
      boards: ['b1', 'b2'],
      secretHash: key.secretHash,
      createdAt: '2026-05-01T12:00:00.000Z',
      ratePerSecond: 20,
      burst: 40,
    });
  });

  it('never holds the secret, in any form it is written in', () => {
    const key = newApiKey();
    const secret = secretOf(key.token);
    const record: ApiKeyRecord = {
      ...apiKeyRecord(key, details, now),
      lastUsedAt: now.toISOString(),
      revokedAt: now.toISOString(),
    };
    const forms = [
      JSON.stringify(record),
      JSON.stringify(record, null, 2),
      String(record),
      `${record}`,
      inspect(record, { depth: null, showHidden: true }),
      Object.values(record).join(' '),
    ];
    for (const form of forms) {
      expect(form).not.toContain(secret);
      expect(form).not.toContain(key.token);
    }
  });
});

describe('keyAllows', () => {
  const record = apiKeyRecord(
    newApiKey(),
    { name: 'k', boards: ['b1'], ratePerSecond: 1, burst: 1 },
    new Date(0),
  );

  it('allows the boards the key names, and no other', () => {
    expect(keyAllows(record, 'b1')).toBe('ok');
    expect(keyAllows(record, 'b2')).toBe('out_of_scope');
    expect(keyAllows({ ...record, boards: [] }, 'b1')).toBe('out_of_scope');
  });

  it('allows nothing once revoked', () => {
    const revoked = { ...record, revokedAt: '2026-01-01T00:00:00.000Z' };
    expect(keyAllows(revoked, 'b1')).toBe('revoked');
    expect(keyAllows(revoked, 'b2')).toBe('revoked');
  });
});
