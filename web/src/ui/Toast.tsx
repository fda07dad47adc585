import { useCallback, useEffect, useState } from 'react';
import './Toast.css';

/** A short message for the page; its id tells two equal messages apart. */
export interface Notice {
  id: number;
  text: string;
}

// How long a notice stays up.
const showForMs = 5000;

/** The notice to show now, if any, and a way to show one (it goes away by itself). */
export function useNotice(): [Notice | undefined, (text: string) => void] {
  const [notice, setNotice] = useState<Notice>();
  useEffect(() => {
    if (notice === undefined) return;
    const timer = window.setTimeout(() => setNotice(undefined), showForMs);
    return () => window.clearTimeout(timer);
  }, [notice]);
  const show = useCallback((text: string) => setNotice({ id: Date.now(), text }), []);
  return [notice, show];
}

/** Where notices appear, politely announced: say what happened without moving focus. */
export function Toast({ notice }: { notice: Notice | undefined }) {
  return (
    <div className="toast-region" role="status" aria-live="polite">
      {notice !== undefined && (
        <p className="toast" key={notice.id}>
          {notice.text}
        </p>
      )}
    </div>
  );
}
