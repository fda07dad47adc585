import { useCallback, useState } from 'react';
import { errorText } from '../api/client.ts';

/** The state of one control's request: whether it is under way, and why it last failed. */
export interface Action {
  pending: boolean;
  error: string | undefined;
  /** Runs `work`; true when it succeeded, false when it failed (its error is then shown). */
  run: (work: () => Promise<void>) => Promise<boolean>;
  /** Shows a message of our own (a field left empty) as this control's error. */
  fail: (message: string) => void;
  reset: () => void;
}

/** One action's pending flag and error, so each control can say what went wrong beside it. */
export function useAction(): Action {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async (work: () => Promise<void>) => {
    setPending(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (failure) {
      setError(errorText(failure));
      return false;
    } finally {
      setPending(false);
    }
  }, []);
  const reset = useCallback(() => setError(undefined), []);
  return { pending, error, run, fail: setError, reset };
}
