import { useEffect, useState } from 'react';

/** True once the pointer and keyboard have been still for `ms`: time to hide chrome and cursor. */
export function useIdle(ms: number): boolean {
  const [idle, setIdle] = useState(true);
  useEffect(() => {
    let timer: number | undefined;
    const wake = () => {
      setIdle(false);
      window.clearTimeout(timer);
      timer = window.setTimeout(() => setIdle(true), ms);
    };
    const events = ['pointermove', 'pointerdown', 'keydown', 'focusin'] as const;
    for (const type of events) window.addEventListener(type, wake);
    return () => {
      window.clearTimeout(timer);
      for (const type of events) window.removeEventListener(type, wake);
    };
  }, [ms]);
  return idle;
}
