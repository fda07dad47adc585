import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkIdempotencyKey,
  IDEMPOTENCY_TTL_MS,
  type IdempotencyRecord,
  replayOf,
  requestFingerprint,
} from './idempotency.ts';

describe('checkIdempotencyKey', () => {
  it('takes 1 to 255 printable ASCII characters', () => {
    for (const key of [
      'a',
      '7f1d2c9e-3b1a-4c8e-9f00-1234567890ab',
      'x'.repeat(255),
      ' !~ key with spaces',
    ]) {
      expect(checkIdempotencyKey(key), key).toBeUndefined();
    }
  });

  it('refuses an empty key and a long one', () => {
    expect(checkIdempotencyKey('')).toBe(
      'Idempotency-Key: empty; send 1 to 255 printable ASCII characters, such as a UUID',
    );
    expect(checkIdempotencyKey('x'.repeat(256))).toBe(
      'Idempotency-Key: 256 characters long; at most 255',
    );
  });

  it('refuses anything outside printable ASCII, saying what and where', () => {
    expect(checkIdempotencyKey('café')).toBe(
      'Idempotency-Key: U+00E9 at position 4 is not printable ASCII',
    );
    expect(checkIdempotencyKey('a\tb')).toBe(
      'Idempotency-Key: U+0009 at position 2 is not printable ASCII',
    );
    expect(checkIdempotencyKey('ab\x7f')).toMatch(/^Idempotency-Key: U\+007F at position 3/);
    expect(checkIdempotencyKey('\n')).toMatch(/^Idempotency-Key: U\+000A at position 1/);
    expect(checkIdempotencyKey('key🙂')).toMatch(/^Idempotency-Key: U\+D83D at position 4/);
  });
});

describe('requestFingerprint', () => {
  const fingerprint = requestFingerprint('POST', '/boards/b1/scores', '{"player":"p1","value":5}');

  it('is a hex SHA-256', () => {
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for the same request, the body as a string or as bytes', () => {
    const body = Buffer.from('{"player":"p1","value":5}');
    expect(requestFingerprint('POST', '/boards/b1/scores', body)).toBe(fingerprint);
  });

  it('differs when the method, the path or the body does', () => {
    const others = [
      requestFingerprint('PUT', '/boards/b1/scores', '{"player":"p1","value":5}'),
      requestFingerprint('POST', '/boards/b2/scores', '{"player":"p1","value":5}'),
      requestFingerprint('POST', '/boards/b1/scores', '{"player":"p1","value":6}'),
      requestFingerprint('POST', '/boards/b1/scores', ''),
    ];
    expect(new Set([fingerprint, ...others]).size).toBe(5);
  });

  it('frames the parts, so bytes moved from one part to the next make another request', () => {
    const a = requestFingerprint('POST', '/a', 'bc');
    expect(requestFingerprint('POST', '/ab', 'c')).not.toBe(a);
    expect(requestFingerprint('POST/', 'a', 'bc')).not.toBe(a);
    expect(requestFingerprint('POST/a', '', 'bc')).not.toBe(a);
    // Not just a hash of the parts glued together.
    expect(a).not.toBe(createHash('sha256').update('POST/abc').digest('hex'));
  });

  it('hashes bodies byte for byte, not as text', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00]);
    expect(requestFingerprint('POST', '/x', bytes)).not.toBe(
      requestFingerprint('POST', '/x', bytes.toString('utf8')),
    );
  });
});

describe('replayOf', () => {
  const fingerprint = requestFingerprint('POST', '/boards/b1/scores', '{"value":5}');
  const record: IdempotencyRecord = {
    key: 'k1',
    fingerprint,
    status: 201,
    body: '{"score":5}',
    createdAt: 1_000_000,
  };

  it('is fresh when nothing was kept under the key', () => {
    expect(replayOf(undefined, fingerprint, 1_000_000)).toEqual({ kind: 'fresh' });
  });

  it('replays the kept answer to the same request', () => {
    expect(replayOf(record, fingerprint, 1_000_000)).toEqual({
      kind: 'replay',
      status: 201,
      body: '{"score":5}',
    });
    expect(replayOf(record, fingerprint, 1_000_000 + IDEMPOTENCY_TTL_MS - 1)).toEqual({
      kind: 'replay',
      status: 201,
      body: '{"score":5}',
    });
  });

  it('is a conflict when the key comes with a different request', () => {
    const other = requestFingerprint('POST', '/boards/b1/scores', '{"value":6}');
    expect(replayOf(record, other, 1_000_000 + 1)).toEqual({ kind: 'conflict' });
  });

  it('forgets the answer after 24 hours: then any request under the key is fresh', () => {
    expect(IDEMPOTENCY_TTL_MS).toBe(86_400_000);
    const expired = 1_000_000 + IDEMPOTENCY_TTL_MS;
    expect(replayOf(record, fingerprint, expired)).toEqual({ kind: 'fresh' });
    expect(replayOf(record, 'another request', expired)).toEqual({ kind: 'fresh' });
  });
});
