import { useEffect, useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import type { Api } from '../api/client.ts';

/** Most players a search shows: enough to pick from, few enough to read. */
export const SEARCH_LIMIT = 10;

// The API takes prefixes of up to 64 characters, as long as the longest name.
const maxPrefix = 64;
// Typing is not searched key by key.
const debounceMs = 200;

/** Where a search stands: nothing asked, an answer awaited, the players found, or a failure. */
export type PlayerSearch =
  | { status: 'idle' }
  | { status: 'searching'; players: RankedPlayer[] | undefined }
  | { status: 'done'; players: RankedPlayer[] }
  | { status: 'failed' };

interface Answer {
  prefix: string;
  players: RankedPlayer[] | undefined;
}

/**
 * The players of a board whose names start with what was typed (any case), as the API finds them
 * (`GET /boards/:id/players/?q=`), each with its rank. While a new answer is awaited, the last
 * one stays, so the list does not blink as the name is typed.
 */
export function usePlayerSearch(api: Api, boardId: string, query: string): PlayerSearch {
  const prefix = query.trim().slice(0, maxPrefix);
  const [answer, setAnswer] = useState<Answer>();

  useEffect(() => {
    if (prefix === '') return;
    const controller = new AbortController();
    const timer = window.setTimeout(async () => {
      try {
        const { signal } = controller;
        const players = await api.searchPlayers(boardId, prefix, { limit: SEARCH_LIMIT, signal });
        setAnswer({ prefix, players });
      } catch {
        if (!controller.signal.aborted) setAnswer({ prefix, players: undefined });
      }
    }, debounceMs);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [api, boardId, prefix]);

  if (prefix === '') return { status: 'idle' };
  if (answer?.prefix !== prefix) return { status: 'searching', players: answer?.players };
  if (answer.players === undefined) return { status: 'failed' };
  return { status: 'done', players: answer.players };
}

/** What a search found, as a sentence for its polite status line. */
export function searchStatus(search: PlayerSearch): string | undefined {
  switch (search.status) {
    case 'idle':
      return undefined;
    case 'searching':
      // The last answer stands until the next: the line does not blink at each key.
      return search.players === undefined ? 'Searching…' : foundText(search.players.length);
    case 'failed':
      return 'The search did not work. Check your connection and try again.';
    case 'done':
      return foundText(search.players.length);
  }
}

function foundText(found: number): string {
  if (found === 0) return 'No player’s name starts with that.';
  if (found >= SEARCH_LIMIT) return `The first ${found} matches: type more of the name.`;
  return `${found} ${found === 1 ? 'match' : 'matches'}.`;
}
