import { FormField, type FormFieldProps } from './FormField.tsx';
import type { Action } from './useAction.ts';

type ActionFieldProps = Omit<FormFieldProps, 'error' | 'value' | 'onChange'> & {
  /** The request the value is for: its error is the field's, and changing the value clears it. */
  request: Action;
  value: string;
  onValueChange: (value: string) => void;
};

/** A form field for one request's value: says why the request failed until the value changes. */
export function ActionField({ request, value, onValueChange, ...field }: ActionFieldProps) {
  return (
    <FormField
      {...field}
      error={request.error}
      value={value}
      onChange={(event) => {
        onValueChange(event.target.value);
        request.reset();
      }}
    />
  );
}

type ActionFormProps = Omit<ActionFieldProps, 'action' | 'onSubmit'> & {
  /** The text of the button beside the field, which submits it. */
  submitLabel: string;
  /** Checks the value and runs the request; the browser's own submission is already stopped. */
  onSubmit: () => Promise<void>;
};

/**
 * A form of one field and its submit button (disabled while the request is under way); the
 * browser's validation is off, so `onSubmit` says in the field's error what is wrong.
 */
export function ActionForm({ submitLabel, onSubmit, ...field }: ActionFormProps) {
  return (
    <form
      className="field"
      onSubmit={(event) => {
        event.preventDefault();
        void onSubmit();
      }}
      noValidate
    >
      <ActionField
        {...field}
        action={
          <button type="submit" className="button" disabled={field.request.pending}>
            {submitLabel}
          </button>
        }
      />
    </form>
  );
}
