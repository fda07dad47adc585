import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preciseNow } from '../local/publish-relay.ts';
import { replaceDurably } from '../origin/store/json-file.ts';
import type { DiskFigure } from './result.ts';
import { summarize } from './stats.ts';

// What the disk costs the origin, without the origin: its own `replaceDurably`
// (origin/store/json-file.ts) — write a temporary file, fsync it, rename it over the data file,
// fsync the directory — one after another, for files the size of a board of 10 and of 10,000
// players. The origin does this when it folds its journal into the data file; a commit itself is
// one journal append and fdatasync, cheaper than the small-file figure here. Also times
// JSON.stringify of the larger database, which each fold does on the origin's one thread.

export interface DiskOptions {
  seconds: number;
}

function database(players: number): unknown {
  const board = (id: string, count: number) => ({
    id,
    name: `Board ${id}`,
    order: 'desc',
    version: count * 3,
    createdAt: new Date(0).toISOString(),
    players: Object.fromEntries(
      Array.from({ length: count }, (_, i) => {
        const pid = `p${String(i).padStart(11, '0')}`;
        return [pid, { id: pid, name: `Player ${i + 1}`, score: i * 7, scoredAt: i * 3 }];
      }),
    ),
  });
  return { boards: { demo: board('demo', 5), big: board('big', players) } };
}

async function commitRate(dir: string, text: string, seconds: number) {
  const times: number[] = [];
  const end = preciseNow() + seconds * 1000;
  while (preciseNow() < end) {
    const started = preciseNow();
    await replaceDurably(join(dir, 'data.json'), text);
    times.push(preciseNow() - started);
  }
  const latency = summarize(times);
  return {
    bytes: Buffer.byteLength(text),
    perSecond: times.length / seconds,
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
  };
}

/** Durable replaces per second of a small and a large data file, and JSON.stringify of the large. */
export async function measureDisk(options: DiskOptions): Promise<DiskFigure> {
  // Beside the origin's own data file: the OS temp dir, on whichever disk holds it.
  const dir = await mkdtemp(join(tmpdir(), 'bench-disk-'));
  try {
    const small = JSON.stringify(database(10));
    const bigDb = database(10_000);
    const big = JSON.stringify(bigDb);
    const stringifyTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = preciseNow();
      JSON.stringify(bigDb);
      stringifyTimes.push(preciseNow() - started);
    }
    return {
      dir: tmpdir(),
      small: await commitRate(dir, small, options.seconds / 2),
      large: await commitRate(dir, big, options.seconds / 2),
      stringifyLargeMs: summarize(stringifyTimes).p50Ms,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
