import { addScore } from '../domain/board.ts';
import { fileStore } from './store.ts';

// The process crash.test.ts kills: +1s from four clients on the board `big` of the data file
// given, and folds one after another, until it is killed. Lines on stdout (a pipe, written
// synchronously on Linux): `try <id>` before a +1, `ack <id>` once it is acknowledged.

const path = process.argv[2] as string;
const store = await fileStore(path, () => {
  throw new Error(`${path} should exist`);
});
const ids = (store.data.boards.big?.players ?? []).slice(0, 20).map((player) => player.id);
const say = (line: string) => process.stdout.write(`${line}\n`);
say('ready');

void (async () => {
  for (;;) {
    await store.fold();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
})();

await Promise.all(
  [0, 1, 2, 3].map(async (client) => {
    for (let i = client; ; i += 4) {
      const id = ids[i % ids.length] as string;
      say(`try ${id}`);
      const { change } = addScore(store.data, 'big', id, 1);
      store.touch(change.boardId, change.changed);
      await store.commit();
      say(`ack ${id}`);
    }
  }),
);
