import type { ScheduleBody } from '../../../contract/board.ts';
import { ApiError, errorText } from '../api/client.ts';

/*
 * The reset schedule's form apart from React: the fields as typed, the request body they make (or
 * what to fix, by field), where an API refusal belongs, and a schedule in words.
 */

export type SchedulePeriod = ScheduleBody['every'];

/** The form's fields, each a place an error can show. */
export type ScheduleField = 'every' | 'weekday' | 'day' | 'at' | 'timeZone';

/** The fields as typed; `never` means the board does not reset on its own. */
export interface ScheduleForm {
  every: SchedulePeriod | 'never';
  /** ISO weekday as text, `1` (Monday) to `7` (Sunday): weekly schedules. */
  weekday: string;
  /** Day of the month as typed: monthly schedules. */
  day: string;
  /** `HH:MM`, as a time input gives it. */
  at: string;
  timeZone: string;
}

/** What is wrong, and in which field it shows. */
export interface ScheduleProblem {
  field: ScheduleField;
  text: string;
}

/** ISO weekdays 1 to 7, by name. */
export const WEEKDAYS = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
] as const;

/** The form of a board with no schedule yet: never resets, midnight, Mondays, the 1st. */
export function newScheduleForm(timeZone: string): ScheduleForm {
  return { every: 'never', weekday: '1', day: '1', at: '00:00', timeZone };
}

/** The form for changing `schedule` (or setting one: weekly, in `timeZone`). */
export function scheduleForm(schedule: ScheduleBody | undefined, timeZone: string): ScheduleForm {
  if (schedule === undefined) return { ...newScheduleForm(timeZone), every: 'week' };
  return {
    every: schedule.every,
    weekday: String(schedule.weekday ?? 1),
    day: String(schedule.day ?? 1),
    at: schedule.at,
    timeZone: schedule.timeZone,
  };
}

const AT = /^([01]?\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$/;

/**
 * The `schedule` the form asks for (undefined for `never`), or the first thing to fix. The time
 * zone is left to the API to judge (it knows which names it takes).
 */
export function scheduleBody(
  form: ScheduleForm,
): { schedule: ScheduleBody | undefined } | { problem: ScheduleProblem } {
  if (form.every === 'never') return { schedule: undefined };
  const time = AT.exec(form.at.trim());
  if (time === null) {
    return { problem: { field: 'at', text: 'Give the time of the reset, 00:00 to 23:59.' } };
  }
  const timeZone = form.timeZone.trim();
  if (timeZone === '') {
    return {
      problem: { field: 'timeZone', text: 'Give a time zone, such as Europe/Paris or UTC.' },
    };
  }
  const schedule: ScheduleBody = {
    every: form.every,
    at: `${(time[1] ?? '').padStart(2, '0')}:${time[2]}`,
    timeZone,
  };
  if (form.every === 'week') {
    const weekday = wholeNumber(form.weekday, 1, 7);
    if (weekday === undefined) {
      return { problem: { field: 'weekday', text: 'Pick the day of the week.' } };
    }
    schedule.weekday = weekday;
  }
  if (form.every === 'month') {
    const day = wholeNumber(form.day, 1, 31);
    if (day === undefined) {
      return {
        problem: { field: 'day', text: 'The day of the month is a whole number from 1 to 31.' },
      };
    }
    schedule.day = day;
  }
  return { schedule };
}

function wholeNumber(text: string, min: number, max: number): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,2}$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value >= min && value <= max ? value : undefined;
}

const FIELDS: readonly ScheduleField[] = ['every', 'weekday', 'day', 'at', 'timeZone'];

/**
 * Where an API refusal of a schedule shows: the API names the field first
 * (`schedule.timeZone: "Mars/Olympus" is not an IANA time zone…`); undefined for any other error.
 */
export function scheduleProblemOf(error: unknown): ScheduleProblem | undefined {
  if (!(error instanceof ApiError) || error.status !== 400) return undefined;
  const named = /^schedule\.(\w+)(?:\.\S*)?: (.+)$/s.exec(error.message);
  const field = FIELDS.find((name) => name === named?.[1]);
  const text = named?.[2];
  if (field === undefined || text === undefined) return undefined;
  return { field, text: errorText(text) };
}

/** "1st", "2nd", "3rd", "4th", "11th", "22nd", "31st". */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/**
 * A schedule in words: "Resets every Monday at 00:00, Europe/Paris", "Resets every day at 09:30,
 * UTC", "Resets on the 31st of every month (or its last day) at 00:00, UTC".
 */
export function scheduleText(schedule: ScheduleBody): string {
  const when = `at ${schedule.at}, ${schedule.timeZone}`;
  switch (schedule.every) {
    case 'day':
      return `Resets every day ${when}`;
    case 'week': {
      const name = schedule.weekday === undefined ? undefined : WEEKDAYS[schedule.weekday - 1];
      return `Resets every ${name ?? 'week'} ${when}`;
    }
    case 'month': {
      const day = schedule.day ?? 1;
      const last = day > 28 ? ' (or its last day)' : '';
      return `Resets on the ${ordinal(day)} of every month${last} ${when}`;
    }
  }
}

/**
 * The time zones to offer: the browser's list (`Intl.supportedValuesOf('timeZone')`) with UTC and
 * the browser's own zone in it, sorted.
 */
export function timeZoneChoices(supported: readonly string[], own: string): string[] {
  return [...new Set([...supported, 'UTC', own])].sort();
}

/** The browser's own time zone (`UTC` when it cannot tell). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** `timeZoneChoices` for this browser. */
export function browserTimeZones(): string[] {
  const supported =
    typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return timeZoneChoices(supported, browserTimeZone());
}
