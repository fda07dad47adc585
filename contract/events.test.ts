import { describe, expect, it } from 'vitest';
import {
  type BoardEvent,
  boardChannel,
  decodeEvent,
  encodeSse,
  eventVersion,
  pageChannel,
} from './events.ts';

const board: BoardEvent = {
  type: 'board',
  board: { id: 'b1', name: 'Quiz', order: 'desc', operator: 'incr', version: 3, playerCount: 1 },
};
const page: BoardEvent = {
  type: 'page',
  version: 5,
  page: 2,
  players: [{ id: 'p1', name: 'Ada', score: 4, scoredAt: 5, rank: 51 }],
};
const reload: BoardEvent = { type: 'reload', version: 6, reason: 'reset', spreadMs: 5000 };
const deleted: BoardEvent = { type: 'deleted', version: 7 };

/** Splits one encoded event back into its SSE fields. */
function fields(sse: string): Record<string, string> {
  return Object.fromEntries(
    sse
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
  );
}

describe('the event contract', () => {
  it.each([board, page, reload, deleted])('decodes what it encodes ($type)', (event) => {
    const { event: type = '', id, data = '' } = fields(encodeSse(event));
    expect(Number(id)).toBe(eventVersion(event));
    expect(decodeEvent(type, data)).toEqual(event);
  });

  it.each([
    ['an unknown event name', 'snapshot', '{"version":1}'],
    ['data that is not JSON', 'update', '{'],
    ['a negative version', 'deleted', '{"version":-1}'],
    ['a page without its number', 'page', '{"version":2,"players":[]}'],
    [
      'a player without a rank',
      'page',
      '{"version":2,"page":0,"players":[{"id":"a","name":"A","score":1,"scoredAt":1}]}',
    ],
    [
      'a board with an unknown order',
      'board',
      '{"id":"b","name":"B","order":"up","version":1,"playerCount":0}',
    ],
    ['a reload for no known reason', 'reload', '{"version":1,"reason":"whim","spreadMs":0}'],
  ])('refuses %s', (_, type, data) => {
    expect(decodeEvent(type, data)).toBeUndefined();
  });

  it('names a channel per board and per page', () => {
    expect(boardChannel('abc')).toBe('board-abc');
    expect(pageChannel('abc', 3)).toBe('board-abc.p3');
  });
});
