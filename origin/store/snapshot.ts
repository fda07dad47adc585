import type { PlayerState } from '../../contract/board.ts';
import type { BoardRecord, Database } from '../domain/board.ts';
import type { IdempotencyRecord } from '../domain/idempotency.ts';
import type { SeasonRecord } from '../domain/seasons.ts';

/**
 * Players serialised per piece: a few milliseconds of `JSON.stringify`, so that writing a board
 * of a million players lets the event loop run a few hundred times instead of stopping it.
 */
export const PLAYERS_PER_PIECE = 5_000;

/**
 * The database as it is now, as JSON text in pieces made one at a time as they are taken. Only
 * what a change replaces is copied now: each board's fields and its players array (pointers,
 * about a millisecond per million players). The players themselves are shared: a change never
 * alters a stored player, it puts a new one in its place (origin/domain/board.ts), so the pieces
 * made later still say what the database held at this call.
 */
export function databasePieces(db: Database): Iterable<string> {
  const boards = Object.entries(db.boards).map(([key, { players, ...fields }]) => ({
    key,
    fields,
    players: players.slice(),
  }));
  // Past seasons never change once kept; a roll puts a new list in place (domain/seasons.ts).
  const seasons = Object.entries(db.seasons ?? {});
  // Kept answers are never changed, only replaced or dropped: their list is copied now.
  const answers = Object.values(db.idempotency ?? {});
  return pieces(boards, seasons, answers);
}

interface CapturedBoard {
  key: string;
  fields: Omit<BoardRecord, 'players'>;
  players: PlayerState[];
}

function* pieces(
  boards: CapturedBoard[],
  seasons: Array<[string, SeasonRecord[]]>,
  answers: IdempotencyRecord[] = [],
): Generator<string> {
  yield '{"boards":{';
  let first = true;
  for (const { key, fields, players } of boards) {
    const head = JSON.stringify({ ...fields, players: [] }).slice(0, -2);
    yield `${first ? '' : ','}${JSON.stringify(key)}:${head}`;
    first = false;
    for (let start = 0; start < players.length; start += PLAYERS_PER_PIECE) {
      const text = JSON.stringify(players.slice(start, start + PLAYERS_PER_PIECE));
      yield start === 0 ? text.slice(1, -1) : `,${text.slice(1, -1)}`;
    }
    yield ']}';
  }
  yield '}';
  if (seasons.length > 0) yield* seasonPieces(seasons);
  if (answers.length > 0) yield* answerPieces(answers);
  yield '}';
}

/** `,"idempotency":{...}`: the kept answers, by id, a few thousand per piece. */
function* answerPieces(answers: IdempotencyRecord[]): Generator<string> {
  yield ',"idempotency":{';
  for (let start = 0; start < answers.length; start += PLAYERS_PER_PIECE) {
    const part = answers.slice(start, start + PLAYERS_PER_PIECE);
    const text = part.map((answer) => `${JSON.stringify(answer.key)}:${JSON.stringify(answer)}`);
    yield `${start === 0 ? '' : ','}${text.join(',')}`;
  }
  yield '}';
}

/** `,"seasons":{...}`: each board's past seasons, their standings in pieces as the players'. */
function* seasonPieces(seasons: Array<[string, SeasonRecord[]]>): Generator<string> {
  yield ',"seasons":{';
  let first = true;
  for (const [key, list] of seasons) {
    yield `${first ? '' : ','}${JSON.stringify(key)}:[`;
    first = false;
    let firstSeason = true;
    for (const { players, ...fields } of list) {
      const head = JSON.stringify({ ...fields, players: [] }).slice(0, -2);
      yield `${firstSeason ? '' : ','}${head}`;
      firstSeason = false;
      for (let start = 0; start < players.length; start += PLAYERS_PER_PIECE) {
        const text = JSON.stringify(players.slice(start, start + PLAYERS_PER_PIECE));
        yield start === 0 ? text.slice(1, -1) : `,${text.slice(1, -1)}`;
      }
      yield ']}';
    }
    yield ']';
  }
  yield '}';
}
