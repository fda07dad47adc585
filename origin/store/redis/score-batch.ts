import type { ScoreBatchResult, ScoredPlayer, ScoreEntry } from '../../../contract/scores.ts';
import type { Limits, NewId } from '../../domain/board.ts';
import { foldName } from '../../domain/board-index.ts';
import { EntriesRefused } from '../../domain/errors.ts';
import { type EntryRefusal, entryMessage } from '../../domain/score-batch.ts';
import { ReplyReader } from './replies.ts';

/*
 * The Node side of the batch script (`lbScores` in scripts.ts): its arguments, and its answer
 * read back into the domain's result or refusal, with the domain's messages.
 */

/**
 * The fresh id each entry would create a player with: the first entry of each external key not
 * on the board (`known` holds those that are), when it names the player. In entry order, as the
 * domain hands them out.
 */
export function freshIds(
  entries: readonly ScoreEntry[],
  known: ReadonlySet<string>,
  newId: NewId,
): Array<string | undefined> {
  const seen = new Set<string>();
  return entries.map((entry) => {
    const key = entry.externalKey;
    if (key === undefined || known.has(key) || seen.has(key)) return undefined;
    seen.add(key);
    return entry.name === undefined ? undefined : newId();
  });
}

/** The script's ARGV after the most players: n, then six values per entry. */
export function batchArgs(
  entries: readonly ScoreEntry[],
  ids: ReadonlyArray<string | undefined>,
): Array<string | number> {
  const args: Array<string | number> = [entries.length];
  entries.forEach((entry, i) => {
    const byId = entry.playerId !== undefined;
    args.push(
      byId ? 'p' : 'e',
      entry.playerId ?? entry.externalKey ?? '',
      entry.name ?? '',
      entry.name === undefined ? '' : foldName(entry.name),
      entry.score,
      ids[i] ?? '',
    );
  });
  return args;
}

/** The script's answer: the result, or `EntriesRefused` thrown with the domain's messages. */
export function readBatchReply(
  reply: unknown,
  entries: readonly ScoreEntry[],
  limits: Limits,
): ScoreBatchResult {
  const reader = new ReplyReader(reply);
  if (reader.number() === 0) {
    const problems: Array<{ index: number; message: string }> = [];
    while (!reader.done) {
      const index = reader.number();
      const refusal = refusalOf(reader.string(), reader.number());
      const entry = entries[index];
      if (entry !== undefined)
        problems.push({ index, message: entryMessage(entry, refusal, limits) });
    }
    throw new EntriesRefused(problems);
  }
  const version = reader.number();
  const players: ScoredPlayer[] = entries.map(() => ({
    ...reader.row(),
    created: reader.string() === '1',
  }));
  return { version, players };
}

function refusalOf(kind: string, detail: number): EntryRefusal {
  switch (kind) {
    case 'duplicate':
    case 'name_repeated':
      return { kind, of: detail };
    case 'limit':
      return { kind, players: detail };
    case 'unknown_player':
    case 'name_required':
    case 'name_taken':
    case 'out_of_range':
      return { kind };
    default:
      throw new Error(`unexpected batch refusal from Redis: ${kind}`);
  }
}
