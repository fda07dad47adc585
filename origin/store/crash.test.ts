import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileStore } from './store.ts';

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Counts per player of what the killed process tried and what it acknowledged. */
interface Counts {
  tried: Map<string, number>;
  acked: Map<string, number>;
}

const bump = (counts: Map<string, number>, id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);

/** Runs crash-child.ts until it has acknowledged `acks` more +1s and `wait` ms more, then kills it. */
async function runAndKill(path: string, counts: Counts, acks: number, wait: number) {
  const process: ChildProcess = spawn(
    globalThis.process.execPath,
    ['--import', 'tsx', child, path],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise((resolve) => process.once('exit', resolve));
  let seen = 0;
  const enough = new Promise<void>((resolve) => {
    createInterface({ input: process.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const [what, id] = line.split(' ') as [string, string];
      if (what === 'try') bump(counts.tried, id);
      if (what === 'ack') {
        bump(counts.acked, id);
        if (++seen === acks) resolve();
      }
    });
  });
  await Promise.race([enough, exited]);
  await new Promise((resolve) => setTimeout(resolve, wait));
  process.kill('SIGKILL');
  await exited;
}

describe('kill -9 during +1s and folds', () => {
  it('loses no acknowledged +1, wherever in a fold the process dies', {
    timeout: 120_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crash-'));
    const path = join(dir, 'db.json');
    // Large enough that a fold writes several pieces and takes a while.
    const players = Array.from({ length: 20_000 }, (_, i) => ({
      id: `p${i}`,
      name: `Player ${i}`,
      score: 0,
      scoredAt: i,
    }));
    const big = { id: 'big', name: 'Big', order: 'desc', version: 1, createdAt: '', players };
    await writeFile(path, JSON.stringify({ boards: { big } }));
    const counts: Counts = { tried: new Map(), acked: new Map() };
    let midFold = 0;
    let round = 0;
    for (; round < 16 && (round < 5 || midFold < 2); round++) {
      await runAndKill(path, counts, 20, (round * 37) % 120);
      const left = await readdir(dir);
      if (left.some((name) => name.endsWith('.folding') || name.endsWith('.tmp'))) midFold++;
    }
    const store = await fileStore(path, () => {
      throw new Error('the data file is gone');
    });
    const scores = new Map((store.data.boards.big?.players ?? []).map((p) => [p.id, p.score]));
    let acknowledged = 0;
    for (const [id, tried] of counts.tried) {
      const acked = counts.acked.get(id) ?? 0;
      acknowledged += acked;
      expect(scores.get(id)).toBeGreaterThanOrEqual(acked);
      expect(scores.get(id)).toBeLessThanOrEqual(tried);
    }
    console.log(
      `store kill -9 test: ${round} kills (${midFold} during a fold), ${acknowledged} acknowledged +1s checked`,
    );
    expect(acknowledged).toBeGreaterThan(0);
    expect(midFold).toBeGreaterThanOrEqual(2);
  });
});
