import { useEffect, useRef, useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import { describeRankChanges } from './announce.ts';

export interface AnnouncementOptions {
  /** A player whose moves are always told (the one this browser voted for). */
  focusId?: string | undefined;
  /**
   * What the players are (the top, a page of ranks...): when it changes, the players shown change
   * without anyone moving, so nothing is told and the new ones are the base for what follows.
   */
  scope?: string;
  intervalMs?: number;
}

/**
 * A sentence for a polite live region about rank changes, said at most once per `intervalMs`:
 * changes that come faster are told together, as the difference since the last sentence.
 */
export function useRankAnnouncements(
  players: readonly RankedPlayer[] | undefined,
  { focusId, scope = '', intervalMs = 5000 }: AnnouncementOptions = {},
): string {
  const [message, setMessage] = useState('');
  const spokenFrom = useRef<readonly RankedPlayer[] | undefined>(undefined);
  const latest = useRef(players);
  const focus = useRef(focusId);
  const spokenScope = useRef<string>(undefined);
  const lastSpokenAt = useRef(0);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    latest.current = players;
    focus.current = focusId;
    if (players === undefined) return;
    if (spokenFrom.current === undefined || spokenScope.current !== `${scope}:${focusId}`) {
      spokenFrom.current = players;
      spokenScope.current = `${scope}:${focusId}`;
      return;
    }
    if (timer.current !== undefined) return;
    const wait = Math.max(0, lastSpokenAt.current + intervalMs - Date.now());
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      const now = latest.current;
      if (now === undefined || spokenFrom.current === undefined) return;
      const text = describeRankChanges(spokenFrom.current, now, {
        watch: 10,
        focusId: focus.current,
        maxSpoken: 3,
      });
      spokenFrom.current = now;
      if (text !== undefined) {
        lastSpokenAt.current = Date.now();
        setMessage(text);
      }
    }, wait);
  }, [players, focusId, scope, intervalMs]);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  return message;
}
