import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  boundariesBetween,
  checkSchedule,
  nextBoundary,
  previousBoundary,
  type Schedule,
} from './schedule.ts';
import { seededRandom } from './seeded-random.ts';

const iso = (dates: Date[]) => dates.map((date) => date.toISOString());
const between = (schedule: Schedule, from: string, to: string) =>
  iso(boundariesBetween(schedule, new Date(from), new Date(to)));
const daily = (at: string, timeZone: string): Schedule => ({ every: 'day', at, timeZone });

describe('checkSchedule', () => {
  it('takes a daily, weekly or monthly schedule', () => {
    expect(checkSchedule(daily('00:00', 'UTC'))).toBeUndefined();
    expect(checkSchedule(daily('23:59', 'Etc/UTC'))).toBeUndefined();
    expect(
      checkSchedule({ every: 'week', at: '09:30', timeZone: 'Europe/Paris', weekday: 7 }),
    ).toBeUndefined();
    expect(
      checkSchedule({ every: 'month', at: '12:00', timeZone: 'America/New_York', day: 31 }),
    ).toBeUndefined();
  });

  it('takes the current and the older names of a place', () => {
    for (const timeZone of ['Asia/Kolkata', 'Asia/Calcutta', 'Europe/Kyiv', 'Europe/Kiev']) {
      expect(checkSchedule(daily('00:00', timeZone)), timeZone).toBeUndefined();
    }
  });

  it('refuses what is not a place or UTC, naming the field', () => {
    expect(checkSchedule(daily('00:00', 'Mars/Olympus'))).toBe(
      'timeZone: "Mars/Olympus" is not an IANA time zone; give a place such as "Europe/Paris", or "UTC"',
    );
    for (const timeZone of [
      'EST',
      'CET',
      'EST5EDT',
      'US/Eastern',
      'Etc/GMT+5',
      'GMT',
      '+05:00',
      '',
    ]) {
      expect(checkSchedule(daily('00:00', timeZone)), timeZone).toMatch(
        new RegExp(`^timeZone: "${timeZone.replace('+', '\\+')}" is not an IANA time zone`),
      );
    }
    expect(checkSchedule(daily('00:00', 'europe/paris'))).toBe(
      'timeZone: "europe/paris" is written "Europe/Paris"',
    );
  });

  it('refuses a time of day that is not HH:MM on a 24-hour clock', () => {
    for (const at of ['24:00', '9:30', '09:60', '09:30:00', '', '0930', ' 09:30']) {
      expect(checkSchedule(daily(at, 'UTC')), at).toBe(
        `at: "${at}" is not a time of day as HH:MM on a 24-hour clock (00:00 to 23:59)`,
      );
    }
  });

  it('refuses an unknown period', () => {
    const schedule = { ...daily('00:00', 'UTC'), every: 'year' } as unknown as Schedule;
    expect(checkSchedule(schedule)).toBe('every: "year" is not one of day, week, month');
  });

  it('wants a weekday for a weekly schedule, and only there', () => {
    const weekly = { every: 'week', at: '00:00', timeZone: 'UTC' } as const;
    expect(checkSchedule(weekly)).toBe(
      'weekday: a weekly schedule needs one (1 = Monday … 7 = Sunday)',
    );
    expect(checkSchedule({ ...weekly, weekday: 0 })).toBe(
      'weekday: 0 is not a day of the week (1 = Monday … 7 = Sunday)',
    );
    expect(checkSchedule({ ...weekly, weekday: 1.5 })).toMatch(/^weekday: 1.5 is not/);
    expect(checkSchedule({ ...weekly, weekday: 8 })).toMatch(/^weekday: 8 is not/);
    expect(checkSchedule({ ...weekly, weekday: 1, day: 1 })).toBe(
      'day: only a monthly schedule has a day of the month',
    );
    expect(checkSchedule({ ...daily('00:00', 'UTC'), weekday: 1 })).toBe(
      'weekday: only a weekly schedule has a weekday',
    );
  });

  it('wants a day of the month for a monthly schedule, and only there', () => {
    const monthly = { every: 'month', at: '00:00', timeZone: 'UTC' } as const;
    expect(checkSchedule(monthly)).toBe(
      'day: a monthly schedule needs a day of the month (1 to 31)',
    );
    expect(checkSchedule({ ...monthly, day: 32 })).toBe(
      'day: 32 is not a day of the month (1 to 31; a shorter month resets on its last day)',
    );
    expect(checkSchedule({ ...monthly, day: 0 })).toMatch(/^day: 0 is not/);
    expect(checkSchedule({ ...monthly, day: 1, weekday: 1 })).toBe(
      'weekday: only a weekly schedule has a weekday',
    );
  });

  it('is what the computations check first', () => {
    const bad = daily('25:00', 'UTC');
    expect(() => nextBoundary(bad, new Date(0))).toThrow(
      new RangeError(`not a valid schedule: ${checkSchedule(bad)}`),
    );
    expect(() => previousBoundary(daily('00:00', 'EST'), new Date(0))).toThrow(RangeError);
    expect(() => boundariesBetween(bad, new Date(0), new Date(1))).toThrow(RangeError);
    expect(() => nextBoundary(daily('00:00', 'UTC'), new Date(Number.NaN))).toThrow(
      'after: not a valid date',
    );
  });
});

describe('boundaries', () => {
  const utcDaily = daily('06:00', 'UTC');

  it('next is strictly after the instant; previous is at or before it', () => {
    const at = new Date('2026-05-10T06:00:00Z');
    expect(nextBoundary(utcDaily, at).toISOString()).toBe('2026-05-11T06:00:00.000Z');
    expect(previousBoundary(utcDaily, at).toISOString()).toBe('2026-05-10T06:00:00.000Z');
    const justBefore = new Date(at.getTime() - 1);
    expect(nextBoundary(utcDaily, justBefore).toISOString()).toBe('2026-05-10T06:00:00.000Z');
    expect(previousBoundary(utcDaily, justBefore).toISOString()).toBe('2026-05-09T06:00:00.000Z');
  });

  it('between two instants: after the first, up to and including the second, at most max', () => {
    expect(between(utcDaily, '2026-05-10T06:00:00Z', '2026-05-12T06:00:00Z')).toEqual([
      '2026-05-11T06:00:00.000Z',
      '2026-05-12T06:00:00.000Z',
    ]);
    expect(between(utcDaily, '2026-05-12T06:00:00Z', '2026-05-10T06:00:00Z')).toEqual([]);
    const year = boundariesBetween(
      utcDaily,
      new Date('2026-01-01T00:00:00Z'),
      new Date('2027-01-01T00:00:00Z'),
    );
    expect(year).toHaveLength(365);
    const capped = boundariesBetween(utcDaily, new Date(0), new Date('2026-01-01T00:00:00Z'), 3);
    expect(iso(capped)).toEqual([
      '1970-01-01T06:00:00.000Z',
      '1970-01-02T06:00:00.000Z',
      '1970-01-03T06:00:00.000Z',
    ]);
  });

  it('UTC weekly on Sunday at 23:59', () => {
    const schedule: Schedule = { every: 'week', weekday: 7, at: '23:59', timeZone: 'UTC' };
    // 2026-05-10 is a Sunday.
    expect(between(schedule, '2026-05-04T00:00:00Z', '2026-05-25T00:00:00Z')).toEqual([
      '2026-05-10T23:59:00.000Z',
      '2026-05-17T23:59:00.000Z',
      '2026-05-24T23:59:00.000Z',
    ]);
  });

  it('Monday 00:00 in Paris stays Monday 00:00 over both DST changes', () => {
    const schedule: Schedule = { every: 'week', weekday: 1, at: '00:00', timeZone: 'Europe/Paris' };
    // Summer time from Sunday 29 March 2026, winter time from Sunday 25 October.
    expect(between(schedule, '2026-03-20T00:00:00Z', '2026-04-01T00:00:00Z')).toEqual([
      '2026-03-22T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
    ]);
    expect(between(schedule, '2026-10-15T00:00:00Z', '2026-10-30T00:00:00Z')).toEqual([
      '2026-10-18T22:00:00.000Z',
      '2026-10-25T23:00:00.000Z',
    ]);
  });

  it('02:30 every day in New York: at 03:00 the day it does not exist', () => {
    const schedule = daily('02:30', 'America/New_York');
    // Clocks jump from 02:00 to 03:00 on Sunday 8 March 2026.
    expect(between(schedule, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
    // Clocks go back from 02:00 to 01:00 on Sunday 1 November 2026: 02:30 comes once.
    expect(between(schedule, '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
      '2026-10-31T06:30:00.000Z',
      '2026-11-01T07:30:00.000Z',
      '2026-11-02T07:30:00.000Z',
    ]);
  });

  it('01:30 every day in New York: once, at the first 01:30, the day it comes twice', () => {
    expect(
      between(daily('01:30', 'America/New_York'), '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z'),
    ).toEqual(['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    const first = new Date('2026-11-01T05:30:00Z');
    const second = new Date('2026-11-01T06:30:00Z');
    expect(previousBoundary(daily('01:30', 'America/New_York'), second)).toEqual(first);
    expect(nextBoundary(daily('01:30', 'America/New_York'), first).toISOString()).toBe(
      '2026-11-02T06:30:00.000Z',
    );
  });

  it('02:30 every day in Berlin: 03:00 on the last Sunday of March, the first 02:30 in October', () => {
    const schedule = daily('02:30', 'Europe/Berlin');
    expect(between(schedule, '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(between(schedule, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('Lord Howe Island, where the clocks move by half an hour', () => {
    // +10:30 to +11 at 02:00 on Sunday 4 October 2026: 02:15 does not exist, 02:30 comes instead.
    expect(
      between(
        daily('02:15', 'Australia/Lord_Howe'),
        '2026-10-02T12:00:00Z',
        '2026-10-05T12:00:00Z',
      ),
    ).toEqual(['2026-10-02T15:45:00.000Z', '2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z']);
    // +11 to +10:30 at 02:00 on Sunday 5 April 2026: 01:45 comes twice, the first one counts.
    expect(
      between(
        daily('01:45', 'Australia/Lord_Howe'),
        '2026-04-03T12:00:00Z',
        '2026-04-06T12:00:00Z',
      ),
    ).toEqual(['2026-04-03T14:45:00.000Z', '2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z']);
  });

  it('Kolkata, half an hour off the hour and no DST', () => {
    const schedule: Schedule = { every: 'month', day: 1, at: '00:00', timeZone: 'Asia/Kolkata' };
    expect(between(schedule, '2026-04-01T00:00:00Z', '2026-06-01T00:00:00Z')).toEqual([
      '2026-04-30T18:30:00.000Z',
      '2026-05-31T18:30:00.000Z',
    ]);
  });

  it('the 31st of every month: the last day of shorter months, February included', () => {
    const schedule: Schedule = { every: 'month', day: 31, at: '09:00', timeZone: 'Europe/London' };
    expect(between(schedule, '2026-01-01T00:00:00Z', '2026-05-01T00:00:00Z')).toEqual([
      '2026-01-31T09:00:00.000Z',
      '2026-02-28T09:00:00.000Z',
      '2026-03-31T08:00:00.000Z',
      '2026-04-30T08:00:00.000Z',
    ]);
    expect(
      iso([previousBoundary({ ...schedule, timeZone: 'UTC' }, new Date('2028-03-15T00:00:00Z'))]),
    ).toEqual(['2028-02-29T09:00:00.000Z']);
  });

  it('a day the clocks skip whole (Samoa, 30 December 2011) resets once, when the next day begins', () => {
    expect(
      between(daily('12:00', 'Pacific/Apia'), '2011-12-28T12:00:00Z', '2011-12-31T12:00:00Z'),
    ).toEqual([
      '2011-12-28T22:00:00.000Z',
      '2011-12-29T22:00:00.000Z',
      '2011-12-30T10:00:00.000Z',
      '2011-12-30T22:00:00.000Z',
    ]);
    expect(
      between(daily('00:00', 'Pacific/Apia'), '2011-12-29T00:00:00Z', '2011-12-31T12:00:00Z'),
    ).toEqual(['2011-12-29T10:00:00.000Z', '2011-12-30T10:00:00.000Z', '2011-12-31T10:00:00.000Z']);
  });
});

const ZONES = [
  'UTC',
  'Europe/Paris',
  'Europe/London',
  'America/New_York',
  'America/Santiago', // DST changes at midnight
  'America/Havana', // DST changes at midnight and 01:00
  'Australia/Lord_Howe', // half-hour DST
  'Asia/Kolkata',
  'Asia/Tehran',
  'Pacific/Chatham', // +12:45 / +13:45
  'Antarctica/Troll', // a two-hour DST
  'Africa/Casablanca', // DST suspended each Ramadan
  'Pacific/Apia', // the day skipped in 2011
];

function randomSchedule(next: () => number): Schedule {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  const two = (n: number) => String(n).padStart(2, '0');
  // Often in the small hours, where the clocks change.
  const hour = next() < 0.6 ? pick([0, 1, 2, 3, 23]) : Math.floor(next() * 24);
  const minute = pick([0, 15, 30, 45, Math.floor(next() * 60)]);
  const base = { at: `${two(hour)}:${two(minute)}`, timeZone: pick(ZONES) };
  const every = pick(['day', 'week', 'month'] as const);
  if (every === 'week') return { ...base, every, weekday: 1 + Math.floor(next() * 7) };
  if (every === 'month') return { ...base, every, day: pick([1, 28, 29, 30, 31, 15]) };
  return { ...base, every };
}

/** An instant from 1995 to 2039, most often in the months where clocks change somewhere. */
function randomInstant(next: () => number): Date {
  const year = 1995 + Math.floor(next() * 45);
  const changing = [2, 3, 8, 9, 10];
  const month =
    next() < 0.7
      ? (changing[Math.floor(next() * changing.length)] as number)
      : Math.floor(next() * 12);
  return new Date(Date.UTC(year, month, 1) + Math.floor(next() * 31 * 86_400_000));
}

/** Whether the instant is where the clocks jump over the schedule's time of day. */
function jumpsOverAt(schedule: Schedule, instant: Date): boolean {
  const zone = IANAZone.create(schedule.timeZone);
  const wall = (t: number) => t + zone.offset(t) * 60_000;
  const time = instant.getTime();
  const [hours, minutes] = schedule.at.split(':').map(Number) as [number, number];
  const local = DateTime.fromMillis(wall(time), { zone: 'utc' }).startOf('day');
  // The skipped time is on the day the jump lands on, or the day before when a whole day is skipped.
  return [local, local.minus({ days: 1 })].some((day) => {
    const target = day.set({ hour: hours, minute: minutes }).toMillis();
    return wall(time - 1) < target && target < wall(time);
  });
}

/** The boundaries after `previous` up to 60 days after `t`, checked against each other and `at`. */
function checkRun(schedule: Schedule, t: Date, previous: Date, label: string): void {
  const boundaries = boundariesBetween(schedule, previous, new Date(t.getTime() + 60 * 86_400_000));
  boundaries.forEach((boundary, i) => {
    const before = boundaries[i - 1] ?? previous;
    expect(boundary.getTime(), label).toBeGreaterThan(before.getTime());
    if (i < 5) {
      expect(previousBoundary(schedule, boundary), label).toEqual(boundary);
      expect(nextBoundary(schedule, before), label).toEqual(boundary);
    }
    const wallTime = DateTime.fromJSDate(boundary, { zone: schedule.timeZone }).toFormat('HH:mm');
    if (wallTime !== schedule.at) expect(jumpsOverAt(schedule, boundary), label).toBe(true);
  });
}

describe('random schedules and instants', () => {
  it('previous ≤ t < next, boundaries strictly increase, and each is at `at` but in a jump', {
    timeout: 30_000,
  }, () => {
    const next = seededRandom(14);
    for (let run = 0; run < 200; run++) {
      const schedule = randomSchedule(next);
      const t = randomInstant(next);
      const label = `${JSON.stringify(schedule)} at ${t.toISOString()}`;
      const previous = previousBoundary(schedule, t);
      const following = nextBoundary(schedule, previous);
      expect(previous.getTime(), label).toBeLessThanOrEqual(t.getTime());
      expect(following.getTime(), label).toBeGreaterThan(t.getTime());
      expect(nextBoundary(schedule, t), label).toEqual(following);
      checkRun(schedule, t, previous, label);
    }
  });

  it('a boundary off its time of day is always where the clocks jump, once a year', () => {
    // Each DST start from 2020 to 2030, with a time of day inside the jump and where it lands.
    const cases: Array<[Schedule, string]> = [
      [daily('02:30', 'Europe/Paris'), '03:00'],
      [daily('02:59', 'America/New_York'), '03:00'],
      [daily('02:15', 'Australia/Lord_Howe'), '02:30'],
      [daily('00:30', 'America/Santiago'), '01:00'],
      [daily('03:00', 'Pacific/Chatham'), '03:45'],
      [daily('02:00', 'Antarctica/Troll'), '03:00'],
    ];
    for (const [schedule, landing] of cases) {
      const boundaries = boundariesBetween(
        schedule,
        new Date('2020-01-01T00:00:00Z'),
        new Date('2031-01-01T00:00:00Z'),
        10_000,
      );
      const wall = (b: Date) =>
        DateTime.fromJSDate(b, { zone: schedule.timeZone }).toFormat('HH:mm');
      const off = boundaries.filter((b) => wall(b) !== schedule.at);
      expect(off.map(wall), schedule.timeZone).toEqual(Array(11).fill(landing));
      for (const boundary of off) expect(jumpsOverAt(schedule, boundary)).toBe(true);
      expect(jumpsOverAt(schedule, boundaries[0] as Date)).toBe(false);
    }
  });
});
