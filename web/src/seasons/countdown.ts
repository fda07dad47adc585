/*
 * The countdown to a board's next reset, in words, and how often it needs redrawing: the days
 * and hours of a long wait change rarely; the last hour counts seconds.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The time left until `endsAt`, in two units at most: `2 d 4 h`, `3 h 12 min`, `4 min 05 s`, `9 s`. */
export function timeLeftText(endsAt: Date, now: Date): string {
  const left = endsAt.getTime() - now.getTime();
  if (left <= 0) return 'now';
  // Rounded up: "1 s" until the very end, never "0 s" before it.
  const seconds = Math.ceil(left / SECOND);
  const [d, h, m, s] = [
    Math.floor(seconds / 86_400),
    Math.floor(seconds / 3_600) % 24,
    Math.floor(seconds / 60) % 60,
    seconds % 60,
  ];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}

/** "Season 3 · resets in 2 d 4 h" (or "· resetting…" once the time has come). */
export function countdownText(season: { number: number; endsAt: string }, now: Date): string {
  const left = timeLeftText(new Date(season.endsAt), now);
  return `Season ${season.number} · ${left === 'now' ? 'resetting…' : `resets in ${left}`}`;
}

/** How long until the text may change: every second in the last hour, else every minute. */
export function redrawAfterMs(endsAt: Date, now: Date): number {
  const left = endsAt.getTime() - now.getTime();
  if (left <= 0) return SECOND;
  if (left <= HOUR + MINUTE) return SECOND - (now.getTime() % SECOND) || SECOND;
  if (left >= DAY) return MINUTE;
  return MINUTE - (now.getTime() % MINUTE) || MINUTE;
}
