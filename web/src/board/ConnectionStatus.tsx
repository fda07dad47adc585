import { useEffect, useState } from 'react';
import type { BoardFeed, Connection } from './follow.ts';
import './ConnectionStatus.css';

interface ConnectionStatusProps {
  /** The board's feed: how its stream is, and when the board last changed. */
  feed: Pick<BoardFeed, 'connection' | 'everLive' | 'updatedAt'>;
  /** Only the dot and the word (embed mode). */
  compact?: boolean;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

function ago(then: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `at ${timeFormat.format(then)}`;
}

function labelOf(connection: Connection, everLive: boolean): string {
  switch (connection) {
    case 'live':
      return 'Live';
    case 'reconnecting':
      return everLive ? 'Reconnecting…' : 'Connecting…';
    case 'offline':
      return 'Offline';
  }
}

/** A dot and a word for the state of the live connection, and when the board last changed. */
export function ConnectionStatus({ feed, compact = false }: ConnectionStatusProps) {
  const { connection, everLive, updatedAt } = feed;
  const now = useNow(5000);
  return (
    <p className="connection" data-testid="connection" data-state={connection}>
      <span className="dot" aria-hidden="true" />
      <span className="connection-label">{labelOf(connection, everLive)}</span>
      {updatedAt !== undefined && !compact && (
        <span className="updated">
          · updated{' '}
          <time dateTime={new Date(updatedAt).toISOString()} title={timeFormat.format(updatedAt)}>
            {ago(updatedAt, Math.max(now, updatedAt))}
          </time>
        </span>
      )}
    </p>
  );
}
