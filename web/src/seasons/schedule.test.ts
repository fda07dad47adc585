import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client.ts';
import {
  newScheduleForm,
  ordinal,
  type ScheduleForm,
  scheduleBody,
  scheduleForm,
  scheduleProblemOf,
  scheduleText,
  timeZoneChoices,
} from './schedule.ts';

const paris = (patch: Partial<ScheduleForm>): ScheduleForm => ({
  ...newScheduleForm('Europe/Paris'),
  ...patch,
});

describe('the schedule body built from the form', () => {
  it('is no schedule at all when the board never resets', () => {
    expect(scheduleBody(paris({}))).toEqual({ schedule: undefined });
  });

  it('carries only the fields of its period', () => {
    expect(scheduleBody(paris({ every: 'day', at: '09:30', weekday: '3', day: '12' }))).toEqual({
      schedule: { every: 'day', at: '09:30', timeZone: 'Europe/Paris' },
    });
    expect(scheduleBody(paris({ every: 'week', weekday: '7' }))).toEqual({
      schedule: { every: 'week', at: '00:00', timeZone: 'Europe/Paris', weekday: 7 },
    });
    expect(scheduleBody(paris({ every: 'month', day: ' 31 ', weekday: '2' }))).toEqual({
      schedule: { every: 'month', at: '00:00', timeZone: 'Europe/Paris', day: 31 },
    });
  });

  it('writes the time as HH:MM and trims the time zone', () => {
    expect(scheduleBody(paris({ every: 'day', at: '7:05', timeZone: ' UTC ' }))).toEqual({
      schedule: { every: 'day', at: '07:05', timeZone: 'UTC' },
    });
    expect(scheduleBody(paris({ every: 'day', at: '23:59:00' }))).toMatchObject({
      schedule: { at: '23:59' },
    });
  });

  it('says what to fix, in the field that is wrong', () => {
    const fieldOf = (form: ScheduleForm) => {
      const result = scheduleBody(form);
      return 'problem' in result ? result.problem.field : undefined;
    };
    expect(fieldOf(paris({ every: 'day', at: '' }))).toBe('at');
    expect(fieldOf(paris({ every: 'day', at: '24:00' }))).toBe('at');
    expect(fieldOf(paris({ every: 'day', timeZone: '  ' }))).toBe('timeZone');
    expect(fieldOf(paris({ every: 'week', weekday: '8' }))).toBe('weekday');
    for (const day of ['0', '32', '', '1.5', 'x']) {
      expect(fieldOf(paris({ every: 'month', day }))).toBe('day');
    }
    expect(scheduleBody(paris({ every: 'month', day: '40' }))).toEqual({
      problem: { field: 'day', text: 'The day of the month is a whole number from 1 to 31.' },
    });
  });

  it('fills the form from a schedule to change, or offers a weekly one to set', () => {
    const monthly = { every: 'month', at: '06:00', timeZone: 'Asia/Tokyo', day: 15 } as const;
    expect(scheduleForm(monthly, 'Europe/Paris')).toEqual({
      every: 'month',
      weekday: '1',
      day: '15',
      at: '06:00',
      timeZone: 'Asia/Tokyo',
    });
    expect(scheduleBody(scheduleForm(monthly, 'UTC'))).toEqual({ schedule: monthly });
    expect(scheduleForm(undefined, 'Europe/Paris')).toMatchObject({
      every: 'week',
      timeZone: 'Europe/Paris',
    });
  });
});

describe('an API refusal of a schedule', () => {
  it('shows on the field the API names, without the field’s name', () => {
    const refused = new ApiError(
      400,
      'invalid_schedule',
      'schedule.timeZone: "Mars/Olympus_Mons" is not an IANA time zone; give a place such as "Europe/Paris", or "UTC"',
    );
    expect(scheduleProblemOf(refused)).toEqual({
      field: 'timeZone',
      text: '"Mars/Olympus_Mons" is not an IANA time zone; give a place such as "Europe/Paris", or "UTC".',
    });
    const body = new ApiError(400, 'invalid_body', 'schedule.at: must be HH:MM (24-hour clock)');
    expect(scheduleProblemOf(body)).toEqual({
      field: 'at',
      text: 'Must be HH:MM (24-hour clock).',
    });
  });

  it('is no field’s when it names none, or is not a refusal of the request', () => {
    expect(scheduleProblemOf(new ApiError(400, 'invalid_body', 'name: must not be empty'))).toBe(
      undefined,
    );
    expect(scheduleProblemOf(new ApiError(400, 'invalid_body', 'schedule.when: no'))).toBe(
      undefined,
    );
    expect(scheduleProblemOf(new ApiError(403, 'forbidden', 'schedule.at: no'))).toBe(undefined);
    expect(scheduleProblemOf(new Error('schedule.at: no'))).toBe(undefined);
  });
});

describe('a schedule in words', () => {
  it('names the period, the time and the zone', () => {
    expect(scheduleText({ every: 'week', weekday: 1, at: '00:00', timeZone: 'Europe/Paris' })).toBe(
      'Resets every Monday at 00:00, Europe/Paris',
    );
    expect(scheduleText({ every: 'week', weekday: 7, at: '18:30', timeZone: 'UTC' })).toBe(
      'Resets every Sunday at 18:30, UTC',
    );
    expect(scheduleText({ every: 'day', at: '09:30', timeZone: 'America/New_York' })).toBe(
      'Resets every day at 09:30, America/New_York',
    );
    expect(scheduleText({ every: 'month', day: 1, at: '00:00', timeZone: 'UTC' })).toBe(
      'Resets on the 1st of every month at 00:00, UTC',
    );
  });

  it('says a day past the 28th falls back to the last day of a shorter month', () => {
    expect(scheduleText({ every: 'month', day: 31, at: '00:00', timeZone: 'UTC' })).toBe(
      'Resets on the 31st of every month (or its last day) at 00:00, UTC',
    );
    expect(scheduleText({ every: 'month', day: 28, at: '00:00', timeZone: 'UTC' })).toBe(
      'Resets on the 28th of every month at 00:00, UTC',
    );
  });

  it('writes ordinals as English does', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 30, 31].map(ordinal)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '23rd',
      '30th',
      '31st',
    ]);
  });
});

describe('the time zones offered', () => {
  it('are the browser’s, with UTC and its own zone, sorted, each once', () => {
    expect(timeZoneChoices(['Europe/Paris', 'America/Lima'], 'Asia/Tokyo')).toEqual([
      'America/Lima',
      'Asia/Tokyo',
      'Europe/Paris',
      'UTC',
    ]);
    expect(timeZoneChoices(['UTC', 'Europe/Paris'], 'Europe/Paris')).toEqual([
      'Europe/Paris',
      'UTC',
    ]);
  });
});
