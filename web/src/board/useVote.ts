import { useCallback, useEffect, useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import { type Api, ApiError } from '../api/client.ts';

// How long votes pause after a 429 that did not say (with Retry-After).
const defaultRetrySeconds = 3;

// Whether votes are paused, and a way to pause them, after the server said "too many" (HTTP 429).
function usePause(): [boolean, (seconds: number) => void] {
  const [until, setUntil] = useState(0);
  useEffect(() => {
    if (until === 0) return;
    const timer = window.setTimeout(() => setUntil(0), Math.max(0, until - Date.now()));
    return () => window.clearTimeout(timer);
  }, [until]);
  const pause = useCallback((seconds: number) => setUntil(Date.now() + seconds * 1000), []);
  return [until !== 0, pause];
}

function retrySeconds(error: ApiError): number {
  return Math.max(1, Math.ceil(error.retryAfter ?? defaultRetrySeconds));
}

/** Why a vote for `name` did not count, as the page says it. */
function refusalText(error: ApiError, name: string): string {
  if (error.status === 429) {
    return `Easy there! Too many votes at once. Try again in ${retrySeconds(error)} s.`;
  }
  if (error.status === 404) return `${name} is no longer on this board.`;
  return `Your vote for ${name} did not count: ${error.message}`;
}

interface VoteOptions {
  /** The board is gone: votes no longer count. */
  deleted: boolean;
  /** Remembers the player this browser voted for. */
  rememberPick: (playerId: string) => void;
  /** Says what became of a vote that did not count. */
  showNotice: (text: string) => void;
}

/**
 * A +1 for a player, and whether votes are paused: when the server says "too many" (429), votes
 * wait as long as it asks. Every vote that does not count says why.
 */
export function useVote(
  api: Api,
  boardId: string,
  { deleted, rememberPick, showNotice }: VoteOptions,
): { vote: (player: RankedPlayer) => Promise<void>; paused: boolean } {
  const [paused, pause] = usePause();
  const vote = useCallback(
    async (player: RankedPlayer) => {
      if (deleted) return showNotice('This board was deleted: votes no longer count.');
      if (paused) return showNotice('Votes are paused for a moment. Try again in a few seconds.');
      rememberPick(player.id);
      try {
        await api.addPoint(boardId, player.id);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 429) pause(retrySeconds(error));
        showNotice(refusalText(error, player.name));
      }
    },
    [api, boardId, deleted, paused, pause, rememberPick, showNotice],
  );
  return { vote, paused };
}
