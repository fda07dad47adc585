import { describe, expect, it } from 'vitest';
import { type BoardEvent, boardChannel, decodeEvent, encodeSse, eventVersion } from './events.ts';

const snapshot: BoardEvent = {
  type: 'snapshot',
  board: {
    id: 'b1',
    name: 'Quiz',
    order: 'desc',
    version: 3,
    playerCount: 1,
    players: [{ id: 'p1', name: 'Ada', score: 2, scoredAt: 3, rank: 1 }],
  },
};
const update: BoardEvent = {
  type: 'update',
  version: 5,
  since: 3,
  players: [{ id: 'p1', name: 'Ada', score: 4, scoredAt: 5 }],
  removed: ['p2'],
};
const deleted: BoardEvent = { type: 'deleted', version: 6 };

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
  it.each([snapshot, update, deleted])('decodes what it encodes ($type)', (event) => {
    const { event: type = '', id, data = '' } = fields(encodeSse(event));
    expect(Number(id)).toBe(eventVersion(event));
    expect(decodeEvent(type, data)).toEqual(event);
  });

  it.each([
    ['an unknown event name', 'reset', '{"version":1}'],
    ['data that is not JSON', 'update', '{'],
    ['a negative version', 'deleted', '{"version":-1}'],
    ['an update without removed', 'update', '{"version":2,"since":1,"players":[]}'],
    [
      'a player without scoredAt',
      'update',
      '{"version":2,"since":1,"players":[{"id":"a","name":"A","score":1}],"removed":[]}',
    ],
    [
      'a snapshot with an unknown order',
      'snapshot',
      '{"id":"b","name":"B","order":"up","version":1,"playerCount":0,"players":[]}',
    ],
  ])('refuses %s', (_, type, data) => {
    expect(decodeEvent(type, data)).toBeUndefined();
  });

  it('names one channel per board', () => {
    expect(boardChannel('abc')).toBe('board-abc');
  });
});
