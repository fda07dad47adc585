import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type IntervalHistogram,
  monitorEventLoopDelay,
  type PerformanceEntry,
  PerformanceObserver,
} from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PlayerState } from '../contract/board.ts';
import { addScore, type Database, emptyDatabase } from '../origin/domain/board.ts';
import { fileStore, type Store } from '../origin/store/store.ts';
import { summarize } from './stats.ts';

// How the file store holds up with one board of a million players: start, +1s (durable group
// commits, as the service makes them), a fold of the journal into the data file under that load,
// and a start with a journal to redo. Run: node --import tsx bench/store-scale.ts [--players N]

const { values: args } = parseArgs({
  options: {
    players: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '16' },
  },
});
const PLAYERS = Number(args.players);
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const BOARD = 'big';

const ms = (value: number) => `${value.toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function memory(): string {
  const { heapUsed, rss } = process.memoryUsage();
  return `heap ${mb(heapUsed)}, RSS ${mb(rss)}`;
}

/**
 * Event-loop delay over a phase (how long the origin would have stopped answering), the longest
 * garbage-collection pause in it, and the longest stall of a 2 ms timer with the CPU time this
 * whole process used during it: a stall with little CPU was the machine running something else
 * (the load average says how busy it was), not this process working.
 */
function watchLoop(): { stop: () => string } {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });
  let gcMax = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as PerformanceEntry[])
      gcMax = Math.max(gcMax, entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const stalls = watchStalls();
  histogram.enable();
  return {
    stop: () => {
      histogram.disable();
      gc.disconnect();
      const stall = stalls.stop();
      return (
        `event-loop delay p99 ${ms(histogram.percentile(99) / 1e6)}, ` +
        `max ${ms(histogram.max / 1e6)} (longest GC pause ${ms(gcMax)}; longest stall ` +
        `${ms(stall.gap)} with ${ms(stall.cpu)} of process CPU in it)`
      );
    },
  };
}

function watchStalls(): { stop: () => { gap: number; cpu: number } } {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let worst = { gap: 0, cpu: 0 };
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    if (now - last > worst.gap) worst = { gap: now - last, cpu: (cpu.user + cpu.system) / 1000 };
    last = now;
    lastCpu = process.cpuUsage();
  }, 2);
  return {
    stop: () => {
      clearInterval(timer);
      return worst;
    },
  };
}

/** A full garbage collection, so that one phase's garbage is not collected in the next. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Writes the board's data file as the store writes it; returns the players' ids. */
async function writeBigBoard(players: number): Promise<string[]> {
  const { db, ids } = bigDatabase(players);
  await writeFile(path(), JSON.stringify(db));
  return ids;
}

function bigDatabase(players: number): { db: Database; ids: string[] } {
  const db = emptyDatabase();
  const ids: string[] = [];
  const list: PlayerState[] = [];
  for (let i = 0; i < players; i++) {
    const id = `p${i.toString(36).padStart(8, '0')}`;
    ids.push(id);
    list.push({ id, name: `Player ${i}`, score: (i * 7919) % 1_000_003, scoredAt: i });
  }
  db.boards[BOARD] = {
    id: BOARD,
    name: 'A million players',
    order: 'desc',
    version: players,
    createdAt: new Date(0).toISOString(),
    players: list,
  };
  return { db, ids };
}

/** One acknowledged +1: when it was acknowledged and how long it took, in milliseconds. */
interface Ack {
  at: number;
  ms: number;
}

/**
 * Closed-loop +1s from `CLIENTS` clients until `running()` says stop: each applies the change in
 * memory, touches the player and waits for the durable commit, like BoardService.change().
 */
async function plusOnes(store: Store, ids: string[], running: () => boolean): Promise<Ack[]> {
  const acks: Ack[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (running()) {
        const started = performance.now();
        await plusOne(store, ids[Math.floor(Math.random() * ids.length)] as string);
        const at = performance.now();
        acks.push({ at, ms: at - started });
      }
    }),
  );
  return acks;
}

function plusOne(store: Store, id: string): Promise<void> {
  const { change } = addScore(store.data, BOARD, id, 1);
  store.touch(change.boardId, [...change.changed, ...change.removed]);
  return store.commit();
}

function commitFigures(acks: Ack[], seconds: number): string {
  const { count, p50Ms, p99Ms, maxMs } = summarize(acks.map((ack) => ack.ms));
  return (
    `${count} +1s (${(count / seconds).toFixed(0)}/s), commit latency p50 ${ms(p50Ms)}, ` +
    `p99 ${ms(p99Ms)}, max ${ms(maxMs)}`
  );
}

async function loadPhase(store: Store, ids: string[]): Promise<void> {
  const loop = watchLoop();
  const started = performance.now();
  const acks = await plusOnes(store, ids, () => performance.now() - started < SECONDS * 1000);
  const seconds = (performance.now() - started) / 1000;
  console.log(`+1 load, ${SECONDS} s: ${commitFigures(acks, seconds)}; ${loop.stop()}`);
}

/** A fold forced while the +1s go on; the figures are those of the fold's own duration. */
async function foldPhase(store: Store, ids: string[]): Promise<void> {
  let running = true;
  const load = plusOnes(store, ids, () => running);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const lines = await journalLines();
  const loop = watchLoop();
  // The monitors' first tick after they start is their baseline: let it pass before the fold.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const started = performance.now();
  await store.fold();
  const ended = performance.now();
  const during = loop.stop();
  running = false;
  const acks = (await load).filter((ack) => ack.at >= started && ack.at <= ended);
  console.log(
    `fold under +1 load: ${ms(ended - started)} (journal of ${lines} lines); ${during}; ` +
      `+1s acknowledged during the fold: ${commitFigures(acks, (ended - started) / 1000)}`,
  );
}

let dir = '';
const path = () => join(dir, 'db.json');

async function journalLines(): Promise<number> {
  let lines = 0;
  for (const name of await readdir(dir)) {
    if (!name.startsWith('db.json.journal')) continue;
    const text = await readFile(join(dir, name), 'utf8');
    lines += text.split('\n').length - 1;
  }
  return lines;
}

/**
 * Appends +1 entries, as the store writes them, until the journal is as large as the data file:
 * the most a start has to redo, since the store folds the journal once it grows past that.
 */
async function fillJournal(ids: string[]): Promise<number> {
  const limit = (await stat(path())).size;
  const board = { id: BOARD, name: 'A million players', order: 'desc', createdAt: '' };
  const lines: string[] = [];
  let bytes = (await stat(`${path()}.journal`)).size;
  for (let version = PLAYERS * 2; bytes < limit; version++) {
    const id = ids[version % ids.length] as string;
    const player = { id, name: `Player ${id}`, score: version, scoredAt: version };
    const line = JSON.stringify({
      boards: [{ id: BOARD, board: { ...board, version }, players: [player], remove: [] }],
    });
    lines.push(line);
    bytes += line.length + 1;
  }
  await writeFile(`${path()}.journal`, `${lines.join('\n')}\n`, { flag: 'a' });
  return lines.length;
}

async function openPhase(label: string): Promise<Store> {
  const started = performance.now();
  const store = await fileStore(path(), emptyDatabase);
  const openMs = performance.now() - started;
  console.log(`${label}: open ${ms(openMs)}; ${memory()}`);
  return store;
}

async function main(): Promise<void> {
  console.log(`store-scale: ${PLAYERS} players, ${CLIENTS} clients, node ${process.version}`);
  console.log(`cpus: ${cpus().length} x ${cpus()[0]?.model.trim()}; load average ${loadavg()}`);
  dir = await mkdtemp(join(tmpdir(), 'store-scale-'));
  try {
    const ids = await writeBigBoard(PLAYERS);
    collectGarbage();
    console.log(`data file: ${mb((await stat(path())).size)}`);
    let store: Store | undefined = await openPhase('start, no journal');
    const first = performance.now();
    await plusOne(store, ids[0] as string);
    console.log(`first +1 after start: ${ms(performance.now() - first)}`);
    await loadPhase(store, ids);
    await foldPhase(store, ids);
    await loadPhase(store, ids);
    const entries = await journalLines();
    await store.commit();
    store = undefined;
    collectGarbage();
    console.log(`journal left: ${entries} lines`);
    await openPhase(`start with ${entries} journal lines to redo`);
    collectGarbage();
    const lines = await fillJournal(ids);
    await openPhase(`start with a full journal (${lines} more lines, as large as the data file)`);
    console.log(`load average after: ${loadavg()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
