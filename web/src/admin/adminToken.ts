import { useCallback, useState } from 'react';

const storageKey = 'leaderboard:admin-token';

// sessionStorage: the token lives as long as the tab, and never reaches other tabs or a later
// visit. Storage may be blocked: admin mode then lasts until the page reloads.
function read(): string | undefined {
  try {
    return window.sessionStorage.getItem(storageKey) ?? undefined;
  } catch {
    return undefined;
  }
}

function write(token: string | undefined): void {
  try {
    if (token === undefined) window.sessionStorage.removeItem(storageKey);
    else window.sessionStorage.setItem(storageKey, token);
  } catch {
    // see read()
  }
}

/** The admin token of this tab (kept in `sessionStorage`), a way to keep one, and to forget it. */
export function useAdminToken(): [string | undefined, (token: string) => void, () => void] {
  const [token, setToken] = useState(read);
  const enter = useCallback((value: string) => {
    write(value);
    setToken(value);
  }, []);
  const leave = useCallback(() => {
    write(undefined);
    setToken(undefined);
  }, []);
  return [token, enter, leave];
}
