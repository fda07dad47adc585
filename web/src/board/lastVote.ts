import { useCallback, useEffect, useState } from 'react';

function storageKey(boardId: string): string {
  return `leaderboard:last-vote:${boardId}`;
}

// Storage can be full, disabled, or blocked (private modes, strict settings): remembering the
// vote is a nicety, so failures are silent.
function read(boardId: string): string | undefined {
  try {
    return window.localStorage.getItem(storageKey(boardId)) ?? undefined;
  } catch {
    return undefined;
  }
}

function write(boardId: string, playerId: string): void {
  try {
    window.localStorage.setItem(storageKey(boardId), playerId);
  } catch {
    // see read()
  }
}

/**
 * The player this browser last voted for on a board (kept in `localStorage`, shared by tabs),
 * and a function to remember a new one.
 */
export function useLastVote(boardId: string): [string | undefined, (playerId: string) => void] {
  const [playerId, setPlayerId] = useState(() => read(boardId));

  useEffect(() => {
    setPlayerId(read(boardId));
    const onStorage = (event: StorageEvent) => {
      if (event.key === storageKey(boardId)) setPlayerId(event.newValue ?? undefined);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [boardId]);

  const remember = useCallback(
    (id: string) => {
      write(boardId, id);
      setPlayerId(id);
    },
    [boardId],
  );

  return [playerId, remember];
}
