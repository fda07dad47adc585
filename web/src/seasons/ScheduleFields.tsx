import { type ReactNode, useMemo } from 'react';
import { describedBy, FormField } from '../ui/FormField.tsx';
import {
  browserTimeZones,
  type ScheduleField,
  type ScheduleForm,
  type ScheduleProblem,
  WEEKDAYS,
} from './schedule.ts';
import './seasons.css';

const PERIODS = [
  { value: 'never', label: 'Never' },
  { value: 'day', label: 'Every day' },
  { value: 'week', label: 'Every week' },
  { value: 'month', label: 'Every month' },
] as const;

interface ScheduleFieldsProps {
  /** Starts the ids of the fields (`<idPrefix>-every`, `<idPrefix>-at`…). */
  idPrefix: string;
  form: ScheduleForm;
  onChange: (patch: Partial<ScheduleForm>) => void;
  /** What to fix, shown under its field. */
  problem: ScheduleProblem | undefined;
  /** Offers "Never" (a new board); a board's schedule is removed by a button of its own. */
  withNever?: boolean;
  /** What stands after the fields, on their row: the button that submits the form. */
  children?: ReactNode;
}

/**
 * A board's reset schedule as form fields: how often, the weekday or the day of the month, the
 * time and the time zone (any the browser knows, its own by default). A "never" schedule shows
 * only how often.
 */
export function ScheduleFields({
  idPrefix,
  form,
  onChange,
  problem,
  withNever = false,
  children,
}: ScheduleFieldsProps) {
  const zones = useMemo(browserTimeZones, []);
  const id = (field: ScheduleField) => `${idPrefix}-${field}`;
  const errorOf = (field: ScheduleField) => (problem?.field === field ? problem.text : undefined);
  return (
    <fieldset className="schedule-fields">
      <legend className="visually-hidden">Reset schedule</legend>
      <div className="field-row wrap">
        <SelectField
          id={id('every')}
          label="Resets"
          value={form.every}
          onChange={(value) => {
            const every = PERIODS.find((p) => p.value === value)?.value;
            if (every !== undefined) onChange({ every });
          }}
          error={errorOf('every')}
        >
          {PERIODS.filter((p) => withNever || p.value !== 'never').map((p) => (
            <option key={p.value} value={p.value}>
              {p.label}
            </option>
          ))}
        </SelectField>
        {form.every === 'week' && (
          <SelectField
            id={id('weekday')}
            label="Day"
            value={form.weekday}
            onChange={(weekday) => onChange({ weekday })}
            error={errorOf('weekday')}
          >
            {WEEKDAYS.map((name, i) => (
              <option key={name} value={String(i + 1)}>
                {name}
              </option>
            ))}
          </SelectField>
        )}
        {form.every === 'month' && (
          <div className="field schedule-day">
            <FormField
              id={id('day')}
              label="Day of the month"
              type="number"
              inputMode="numeric"
              min={1}
              max={31}
              value={form.day}
              onChange={(event) => onChange({ day: event.target.value })}
              hint="Shorter months reset on their last day."
              error={errorOf('day')}
            />
          </div>
        )}
        {form.every !== 'never' && (
          <>
            <div className="field">
              <FormField
                id={id('at')}
                label="Time"
                type="time"
                value={form.at}
                onChange={(event) => onChange({ at: event.target.value })}
                error={errorOf('at')}
              />
            </div>
            <div className="field grow">
              <FormField
                id={id('timeZone')}
                label="Time zone"
                type="text"
                autoComplete="off"
                spellCheck={false}
                list={`${idPrefix}-zones`}
                value={form.timeZone}
                onChange={(event) => onChange({ timeZone: event.target.value })}
                error={errorOf('timeZone')}
              />
              <datalist id={`${idPrefix}-zones`}>
                {zones.map((zone) => (
                  <option key={zone} value={zone} />
                ))}
              </datalist>
            </div>
          </>
        )}
        {children}
      </div>
    </fieldset>
  );
}

interface SelectFieldProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
  children: ReactNode;
}

/** A labelled select and, under it, what is wrong with it (as FormField does for an input). */
function SelectField({ id, label, value, onChange, error, children }: SelectFieldProps) {
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={error !== undefined || undefined}
        aria-describedby={describedBy(undefined, error, errorId)}
      >
        {children}
      </select>
      {error !== undefined && (
        <p className="field-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
