import { DateTime, IANAZone } from 'luxon';

/**
 * Season schedules: when a board resets on its own, as a local time of day in a time zone, every
 * day, week or month. Pure date arithmetic (no timers, no storage): the caller asks for the next
 * boundary and arms its own timer, or lists the boundaries it missed while it was down.
 *
 * Daylight saving time: a local time that does not exist that day (the clocks jump over it) resets
 * at the first instant after the jump; a local time that happens twice (the clocks go back) resets
 * at its first occurrence, once.
 */

export const SCHEDULE_PERIODS = ['day', 'week', 'month'] as const;
export type SchedulePeriod = (typeof SCHEDULE_PERIODS)[number];

export interface Schedule {
  every: SchedulePeriod;
  /** The local time of day, `HH:MM` on a 24-hour clock. */
  at: string;
  /** An IANA time zone name such as `Europe/Paris`, or `UTC`. */
  timeZone: string;
  /** The ISO day of the week, 1 = Monday … 7 = Sunday: for (and only for) a weekly schedule. */
  weekday?: number | undefined;
  /**
   * The day of the month, 1 to 31: for (and only for) a monthly schedule. A month shorter than
   * that resets on its last day.
   */
  day?: number | undefined;
}

/** What is wrong with a schedule, naming the field, or undefined when it is fine. */
export function checkSchedule(input: Schedule): string | undefined {
  return (
    checkPeriod(input.every) ??
    checkAt(input.at) ??
    checkTimeZone(input.timeZone) ??
    checkWeekday(input) ??
    checkDay(input)
  );
}

/** The first boundary strictly after `after`. Throws a RangeError for a schedule `checkSchedule` refuses. */
export function nextBoundary(schedule: Schedule, after: Date): Date {
  const plan = planOf(schedule);
  const first = boundariesAfter(plan, millisOf(after, 'after')).next();
  if (first.done === true) throw new RangeError('no boundary after this date');
  return new Date(first.value);
}

/** The last boundary at or before `atOrBefore`. Throws a RangeError for a schedule `checkSchedule` refuses. */
export function previousBoundary(schedule: Schedule, atOrBefore: Date): Date {
  const plan = planOf(schedule);
  const time = millisOf(atOrBefore, 'atOrBefore');
  for (const date of resetDates(plan, localDate(plan, time).plus({ days: 2 }), -1)) {
    const boundary = boundaryOn(plan, date);
    if (boundary <= time) return new Date(boundary);
  }
  throw new RangeError('no boundary before this date');
}

/**
 * The boundaries b with from < b ≤ to, in order: the resets missed between two instants. At most
 * `max` of them (the first ones). Throws a RangeError for a schedule `checkSchedule` refuses.
 */
export function boundariesBetween(schedule: Schedule, from: Date, to: Date, max = 1000): Date[] {
  const plan = planOf(schedule);
  const end = millisOf(to, 'to');
  const found: Date[] = [];
  for (const boundary of boundariesAfter(plan, millisOf(from, 'from'))) {
    if (boundary > end || found.length >= max) break;
    found.push(new Date(boundary));
  }
  return found;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const AT_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;

// Names of places (Area/Location), which rules out abbreviations (EST, CET), POSIX-style names
// (EST5EDT), fixed offsets (Etc/GMT+5) and the old country aliases (US/Eastern).
const PLACE_PATTERN =
  /^(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)(\/[A-Z][A-Za-z0-9_+-]*)+$/;
const UTC_NAMES = new Set(['UTC', 'Etc/UTC']);

function checkPeriod(every: string): string | undefined {
  return (SCHEDULE_PERIODS as readonly string[]).includes(every)
    ? undefined
    : `every: "${every}" is not one of ${SCHEDULE_PERIODS.join(', ')}`;
}

function checkAt(at: string): string | undefined {
  return AT_PATTERN.test(at)
    ? undefined
    : `at: "${at}" is not a time of day as HH:MM on a 24-hour clock (00:00 to 23:59)`;
}

function checkTimeZone(name: string): string | undefined {
  if (UTC_NAMES.has(name) || knownZones.has(name)) return undefined;
  const canonical = canonicalZone(name);
  if (
    canonical !== undefined &&
    canonical !== name &&
    canonical.toLowerCase() === name.toLowerCase()
  ) {
    return `timeZone: "${name}" is written "${canonical}"`;
  }
  if (canonical === undefined || !PLACE_PATTERN.test(name)) {
    return `timeZone: "${name}" is not an IANA time zone; give a place such as "Europe/Paris", or "UTC"`;
  }
  knownZones.add(name);
  return undefined;
}

// Names already accepted: checking one builds an Intl formatter, and every boundary checks again.
const knownZones = new Set<string>();
let supportedZones: Set<string> | undefined;

/** The zone Intl resolves the name to, when it is one Intl lists; undefined otherwise. */
function canonicalZone(name: string): string | undefined {
  if (!IANAZone.isValidZone(name)) return undefined;
  supportedZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  const canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  return supportedZones.has(canonical) ? canonical : undefined;
}

const WEEKDAYS = '1 = Monday … 7 = Sunday';

function checkWeekday({ every, weekday }: Schedule): string | undefined {
  if (every !== 'week') {
    return weekday === undefined ? undefined : 'weekday: only a weekly schedule has a weekday';
  }
  if (weekday === undefined) return `weekday: a weekly schedule needs one (${WEEKDAYS})`;
  return Number.isInteger(weekday) && weekday >= 1 && weekday <= 7
    ? undefined
    : `weekday: ${weekday} is not a day of the week (${WEEKDAYS})`;
}

function checkDay({ every, day }: Schedule): string | undefined {
  if (every !== 'month') {
    return day === undefined ? undefined : 'day: only a monthly schedule has a day of the month';
  }
  if (day === undefined) return 'day: a monthly schedule needs a day of the month (1 to 31)';
  return Number.isInteger(day) && day >= 1 && day <= 31
    ? undefined
    : `day: ${day} is not a day of the month (1 to 31; a shorter month resets on its last day)`;
}

/** A checked schedule, ready to compute with. */
interface Plan {
  every: SchedulePeriod;
  zone: IANAZone;
  /** `at` in minutes after midnight. */
  minutes: number;
  weekday: number;
  day: number;
}

function planOf(schedule: Schedule): Plan {
  const problem = checkSchedule(schedule);
  if (problem !== undefined) throw new RangeError(`not a valid schedule: ${problem}`);
  const [, hours, minutes] = AT_PATTERN.exec(schedule.at) ?? [];
  return {
    every: schedule.every,
    zone: IANAZone.create(schedule.timeZone),
    minutes: Number(hours) * 60 + Number(minutes),
    weekday: schedule.weekday ?? 1,
    day: schedule.day ?? 1,
  };
}

function millisOf(date: Date, name: string): number {
  const millis = date.getTime();
  if (Number.isNaN(millis)) throw new RangeError(`${name}: not a valid date`);
  return millis;
}

/** The boundaries after an instant, strictly increasing. */
function* boundariesAfter(plan: Plan, after: number): Generator<number> {
  let last = after;
  // Two days back: a boundary on an earlier date is never after `after`, whatever the offsets.
  for (const date of resetDates(plan, localDate(plan, after).minus({ days: 2 }), 1)) {
    const boundary = boundaryOn(plan, date);
    // A day the clocks skip whole resets when the next day begins: once, not twice.
    if (boundary > last) {
      last = boundary;
      yield boundary;
    }
  }
}

/** The calendar date at an instant in the schedule's zone, as midnight UTC of that date. */
function localDate(plan: Plan, millis: number): DateTime {
  const local = DateTime.fromMillis(millis, { zone: plan.zone });
  return DateTime.utc(local.year, local.month, local.day);
}

/** The instant of the reset on a local date (given as midnight UTC of that date). */
function boundaryOn(plan: Plan, date: DateTime): number {
  if (!date.isValid) throw new RangeError('beyond the dates this schedule can reach');
  return instantOf(plan.zone, date.toMillis() + plan.minutes * MINUTE);
}

/**
 * The dates the schedule resets on, from `start` (included when it is one) forwards (step 1) or
 * backwards (step -1), for ever.
 */
function resetDates(plan: Plan, start: DateTime, step: 1 | -1): Iterable<DateTime> {
  switch (plan.every) {
    case 'day':
      return everyNth(start, { days: step });
    case 'week': {
      const shift = step * ((step * (plan.weekday - start.weekday) + 7) % 7);
      return everyNth(start.plus({ days: shift }), { weeks: step });
    }
    case 'month':
      return monthly(plan.day, start, step);
  }
}

function* everyNth(start: DateTime, step: { days: number } | { weeks: number }) {
  for (let date = start; ; date = date.plus(step)) yield date;
}

function* monthly(day: number, start: DateTime, step: 1 | -1) {
  for (let month = start.startOf('month'); ; month = month.plus({ months: step })) {
    const date = month.set({ day: Math.min(day, month.daysInMonth ?? 28) });
    if (step * (date.toMillis() - start.toMillis()) >= 0) yield date;
  }
}

/**
 * The instant a wall-clock time names in a zone (`wall` is that time read as if it were UTC): its
 * first occurrence when the clocks go back over it, the end of the jump when they skip it.
 */
function instantOf(zone: IANAZone, wall: number): number {
  // The offsets a day either side: a transition in between is the only one near enough to matter.
  const before = zone.offset(wall - DAY) * MINUTE;
  const after = zone.offset(wall + DAY) * MINUTE;
  const candidates = [wall - before, wall - after].filter(
    (instant) => instant + zone.offset(instant) * MINUTE === wall,
  );
  if (candidates.length > 0) return Math.min(...candidates);
  // In the gap: find the instant the clocks jumped, to the millisecond.
  let low = wall - after;
  let high = wall - before;
  const oldOffset = zone.offset(low);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (zone.offset(middle) === oldOffset) low = middle;
    else high = middle;
  }
  return high;
}
