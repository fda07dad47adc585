import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../../contract/scores.ts';
import { ago, boardNames, burstFor, keyRequest, keyState, sortedKeys } from './apiKeys.ts';

const now = new Date('2024-05-01T12:00:00.000Z');
const key = (over: Partial<ApiKey> = {}): ApiKey => ({
  id: 'AAAAAAAAAAAA',
  name: 'EU servers',
  boards: ['demo'],
  ratePerSecond: 50,
  burst: 100,
  createdAt: '2024-05-01T10:00:00.000Z',
  ...over,
});

describe('keyRequest', () => {
  it('makes the body from the form, the name trimmed and a burst of two seconds', () => {
    expect(keyRequest({ name: ' EU ', boards: ['a', 'b'], ratePerSecond: ' 20 ' })).toEqual({
      body: { name: 'EU', boards: ['a', 'b'], ratePerSecond: 20, burst: 40 },
    });
  });

  it('says which field to fix', () => {
    const field = (form: Parameters<typeof keyRequest>[0]) => {
      const result = keyRequest(form);
      return 'problem' in result ? result.problem.field : undefined;
    };
    expect(field({ name: '  ', boards: ['a'], ratePerSecond: '5' })).toBe('name');
    expect(field({ name: 'x', boards: [], ratePerSecond: '5' })).toBe('boards');
    for (const rate of ['', '0', '1.5', '-3', 'fast', '100001']) {
      expect(field({ name: 'x', boards: ['a'], ratePerSecond: rate }), rate).toBe('rate');
    }
  });
});

describe('burstFor', () => {
  it('is two seconds of the rate, at least 10, at most the API limit', () => {
    expect([burstFor(1), burstFor(50), burstFor(100_000)]).toEqual([10, 100, 100_000]);
  });
});

describe('keyState and ago', () => {
  it('reads never used, last used and revoked', () => {
    expect(keyState(key(), now)).toEqual({ revoked: false, text: 'Never used' });
    expect(keyState(key({ lastUsedAt: '2024-05-01T11:55:00.000Z' }), now).text).toBe(
      'Last used 5 min ago',
    );
    expect(keyState(key({ revokedAt: '2024-05-01T11:59:30.000Z' }), now)).toEqual({
      revoked: true,
      text: 'Revoked just now',
    });
  });

  it('counts minutes, then hours, then gives the date', () => {
    expect(ago('2024-05-01T09:00:00.000Z', now)).toBe('3 h ago');
    expect(ago('2024-04-20T09:00:00.000Z', now)).toBe(
      new Date('2024-04-20T09:00:00.000Z').toLocaleDateString(),
    );
  });
});

describe('boardNames and sortedKeys', () => {
  it('names boards, and shows the id of one deleted since', () => {
    const boards = [{ id: 'demo', name: 'Demo board' }];
    expect(boardNames(key({ boards: ['demo', 'gone'] }), boards)).toBe('Demo board, gone');
  });

  it('lists live keys first, newest first', () => {
    const old = key({ id: 'old', createdAt: '2024-01-01T00:00:00.000Z' });
    const fresh = key({ id: 'fresh', createdAt: '2024-03-01T00:00:00.000Z' });
    const revoked = key({
      id: 'revoked',
      createdAt: '2024-04-01T00:00:00.000Z',
      revokedAt: '2024-04-02T00:00:00.000Z',
    });
    expect(sortedKeys([old, revoked, fresh]).map((k) => k.id)).toEqual(['fresh', 'old', 'revoked']);
  });
});
