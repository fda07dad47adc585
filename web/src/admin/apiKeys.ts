import type { BoardSummary } from '../../../contract/board.ts';
import type { ApiKey, CreateApiKeyBody } from '../../../contract/scores.ts';

/*
 * The "Game server keys" panel's logic, apart from React: what the form sends, and how a key's
 * state reads in the list.
 */

/** The form as typed: a name, the boards ticked, and a rate as text. */
export interface KeyForm {
  name: string;
  boards: readonly string[];
  ratePerSecond: string;
}

/** Most submissions per second a key may be given (as the API takes). */
export const MAX_KEY_RATE = 100_000;

/** A key's burst for its rate: two seconds' worth, at least 10, within what the API takes. */
export function burstFor(ratePerSecond: number): number {
  return Math.min(MAX_KEY_RATE, Math.max(10, ratePerSecond * 2));
}

/** The request body for the form, or what to fix, by field. */
export function keyRequest(
  form: KeyForm,
): { body: CreateApiKeyBody } | { problem: { field: 'name' | 'boards' | 'rate'; text: string } } {
  const name = form.name.trim();
  if (name === '') return { problem: { field: 'name', text: 'Name the key (who will use it).' } };
  if (form.boards.length === 0) {
    return { problem: { field: 'boards', text: 'Pick at least one board the key may write to.' } };
  }
  const rate = Number(form.ratePerSecond.trim());
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_KEY_RATE) {
    return {
      problem: {
        field: 'rate',
        text: `The rate is a whole number of submissions per second, 1 to ${MAX_KEY_RATE.toLocaleString('en')}.`,
      },
    };
  }
  return { body: { name, boards: [...form.boards], ratePerSecond: rate, burst: burstFor(rate) } };
}

/** A time as people read it: "just now", "5 min ago", "3 h ago", else the date. */
export function ago(iso: string, now: Date): string {
  const seconds = Math.round((now.getTime() - Date.parse(iso)) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** What the list says of a key: revoked (and when), or when it was last used. */
export function keyState(key: ApiKey, now: Date): { revoked: boolean; text: string } {
  if (key.revokedAt !== undefined) {
    return { revoked: true, text: `Revoked ${ago(key.revokedAt, now)}` };
  }
  return {
    revoked: false,
    text: key.lastUsedAt === undefined ? 'Never used' : `Last used ${ago(key.lastUsedAt, now)}`,
  };
}

/** The names of a key's boards, by id; a board deleted since shows its id. */
export function boardNames(
  key: ApiKey,
  boards: readonly Pick<BoardSummary, 'id' | 'name'>[],
): string {
  const byId = new Map(boards.map((board) => [board.id, board.name]));
  return key.boards.map((id) => byId.get(id) ?? id).join(', ');
}

/** Live keys first, then revoked ones; newest first within each. */
export function sortedKeys(keys: readonly ApiKey[]): ApiKey[] {
  return [...keys].sort(
    (a, b) =>
      Number(a.revokedAt !== undefined) - Number(b.revokedAt !== undefined) ||
      b.createdAt.localeCompare(a.createdAt),
  );
}
