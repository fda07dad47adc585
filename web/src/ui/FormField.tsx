import type { ComponentProps, ReactNode } from 'react';
import { MAX_NAME_LENGTH } from '../../../contract/requests.ts';
import './FormField.css';

type InputProps = Omit<
  ComponentProps<'input'>,
  'id' | 'children' | 'aria-invalid' | 'aria-describedby'
>;

export interface FormFieldProps extends InputProps {
  id: string;
  label: string;
  /** What is wrong with the value, shown under the field; undefined while nothing is. */
  error: string | undefined;
  /** The id of the error's paragraph: `<id>-error` unless given. */
  errorId?: string;
  /** What stands beside the input, on its row: the button that submits it. */
  action?: ReactNode;
  /** A line under the input that says more of what it takes (`<id>-hint`), which describes it. */
  hint?: string;
}

/** The input of a display name: plain text, no autofill, no longer than the API takes. */
export const nameInput = { type: 'text', autoComplete: 'off', maxLength: MAX_NAME_LENGTH } as const;

/**
 * A labelled input and, under it, why its value was refused: while there is an error the input is
 * marked invalid and described by it, and the error is an alert, so a screen reader says it at
 * once. The parts are laid out by the element around them (class `field`).
 */
export function FormField({
  id,
  label,
  error,
  errorId = `${id}-error`,
  action,
  hint,
  ...input
}: FormFieldProps) {
  const hintId = `${id}-hint`;
  const control = (
    <input
      {...input}
      id={id}
      aria-invalid={error !== undefined || undefined}
      aria-describedby={describedBy(hint === undefined ? undefined : hintId, error, errorId)}
    />
  );
  return (
    <>
      <label htmlFor={id}>{label}</label>
      {action === undefined ? (
        control
      ) : (
        <div className="field-row">
          {control}
          {action}
        </div>
      )}
      {hint !== undefined && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p className="field-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </>
  );
}

/** The ids that describe a control: its hint, then its error, when there are any. */
export function describedBy(
  hintId: string | undefined,
  error: string | undefined,
  errorId: string,
): string | undefined {
  const ids = [hintId, error === undefined ? undefined : errorId].filter((id) => id !== undefined);
  return ids.length === 0 ? undefined : ids.join(' ');
}
