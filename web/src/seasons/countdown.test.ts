import { describe, expect, it } from 'vitest';
import { countdownText, redrawAfterMs, timeLeftText } from './countdown.ts';

const now = new Date('2030-01-01T12:00:00.000Z');
const inMs = (ms: number) => new Date(now.getTime() + ms);
const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('the countdown to a reset', () => {
  it('says the time left in two units at most', () => {
    expect(timeLeftText(inMs(2 * D + 4 * H + 59 * M), now)).toBe('2 d 4 h');
    expect(timeLeftText(inMs(D), now)).toBe('1 d 0 h');
    expect(timeLeftText(inMs(3 * H + 12 * M + 30 * S), now)).toBe('3 h 12 min');
    expect(timeLeftText(inMs(4 * M + 5 * S), now)).toBe('4 min 05 s');
    expect(timeLeftText(inMs(9 * S), now)).toBe('9 s');
  });

  it('rounds up, so the last second reads 1 s and the end reads now', () => {
    expect(timeLeftText(inMs(1), now)).toBe('1 s');
    expect(timeLeftText(inMs(59_001), now)).toBe('1 min 00 s');
    expect(timeLeftText(now, now)).toBe('now');
    expect(timeLeftText(inMs(-5 * S), now)).toBe('now');
  });

  it('names the season', () => {
    const endsAt = inMs(2 * D + 4 * H).toISOString();
    expect(countdownText({ number: 3, endsAt }, now)).toBe('Season 3 · resets in 2 d 4 h');
    expect(countdownText({ number: 3, endsAt: now.toISOString() }, now)).toBe(
      'Season 3 · resetting…',
    );
  });

  it('ticks each second in the last hour, else each minute', () => {
    expect(redrawAfterMs(inMs(30 * M), now)).toBe(S);
    expect(redrawAfterMs(inMs(30 * M), new Date(now.getTime() + 250))).toBe(750);
    expect(redrawAfterMs(inMs(5 * H), now)).toBe(M);
    expect(redrawAfterMs(inMs(3 * D), now)).toBe(M);
    expect(redrawAfterMs(inMs(-S), now)).toBe(S);
  });
});
