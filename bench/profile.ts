import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { apiPaths } from '../contract/paths.ts';
import { createBoardWithPlayers, startBenchStack } from './fixture.ts';
import { scoreAddLoad } from './load.ts';
import type { BenchPlan } from './plan.ts';
import { benchParts, watchCpu } from './proc.ts';

// Where the origin's CPU goes per durable `+1`: the origin runs under `node --cpu-prof` while
// autocannon sends `+1`s straight to it, one board size at a time; the profile is then summed by
// function (self time), by package or source file, and by function including callees.

export interface ProfileArea {
  area: string;
  share: number;
}

export interface ProfileFunction {
  name: string;
  where: string;
  /** Share of all sampled time (idle included) spent in it (self) or under it (inclusive). */
  share: number;
}

export interface ProfileRun {
  players: number;
  perSecond: number;
  originCpu: number;
  originCpuMsPerScoreAdd: number;
  /** Share of the origin's busy (non-idle) samples, per package or source file. */
  byArea: ProfileArea[];
  self: ProfileFunction[];
  inclusive: ProfileFunction[];
  /** The raw profile, for Chrome DevTools (Performance > Load profile). */
  file: string;
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock, which every process on the machine shares. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The monotonic clock in microseconds, as V8 stamps its profile samples. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Profiles the origin under `+1` load on a board of each size of the plan. */
export async function profileOrigin(plan: BenchPlan, outDir: string): Promise<ProfileRun[]> {
  const runs: ProfileRun[] = [];
  for (const players of plan.scoreAdd.boards) {
    const profileDir = join(outDir, `profile-${players}`);
    await rm(profileDir, { recursive: true, force: true });
    await mkdir(profileDir, { recursive: true });
    const bench = await startBenchStack({
      publishIntervalMs: plan.publishIntervalMs,
      pushpinLogLevel: plan.pushpinLogLevel,
      originNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    });
    let perSecond: number;
    let originCpu: number;
    let window: [number, number];
    try {
      const { boardId, playerIds } = await createBoardWithPlayers(bench.direct, 'Profile', players);
      const paths = playerIds.map((id) => apiPaths.scoreAdd(boardId, id));
      const load = scoreAddLoad(bench.originUrl, paths, plan.scoreAdd.connections);
      await load(plan.warmupSeconds);
      const cpu = watchCpu(benchParts(bench.origin.pid, bench.pushpin.pid, () => []));
      const from = monotonicUs();
      const figure = await load(plan.loadSeconds);
      window = [from, monotonicUs()];
      originCpu = cpu().byPart.origin;
      perSecond = figure.perSecond;
    } finally {
      // A graceful stop lets Node write the profile on exit.
      await bench.stop();
    }
    const file = await largestProfile(profileDir);
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    runs.push({
      players,
      perSecond,
      originCpu,
      originCpuMsPerScoreAdd: (originCpu * 10) / Math.max(1, perSecond),
      ...summarizeProfile(profile, window),
      file,
    });
  }
  return runs;
}

// The main thread's profile is the big one; tsx's loader thread writes a small one beside it.
async function largestProfile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  let best: { file: string; size: number } | undefined;
  for (const f of files) {
    const size = (await stat(join(dir, f))).size;
    if (best === undefined || size > best.size) best = { file: join(dir, f), size };
  }
  if (best === undefined) throw new Error(`no .cpuprofile written in ${dir}`);
  return best.file;
}

const IDLE = '(idle)';

function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    return functionName === '(garbage collector)'
      ? 'V8 garbage collector'
      : `V8 ${functionName || 'native'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg !== undefined) return pkg;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const own = /\/((?:origin|shared)\/.+)$/.exec(url)?.[1];
  return own ?? url;
}

// tsx compiles each file to a few long lines, so a line number would point nowhere useful.
const whereOf = areaOf;

/**
 * Self time by area and function, and inclusive time by function, as shares of the busy samples
 * taken in `window` (start-up and setting up the board are left out).
 */
export function summarizeProfile(
  profile: CpuProfile,
  window: [number, number],
): {
  byArea: ProfileArea[];
  self: ProfileFunction[];
  inclusive: ProfileFunction[];
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < window[0] || at > window[1]) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    total += us;
    if (byId.get(id)?.callFrame.functionName === IDLE) idle += us;
  }
  const busy = Math.max(1, total - idle);
  const key = (frame: CallFrame) => `${frame.functionName || '(anonymous)'}\u0000${whereOf(frame)}`;

  const areas = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined || frame.functionName === IDLE) continue;
    areas.set(areaOf(frame), (areas.get(areaOf(frame)) ?? 0) + us);
    selfByFunction.set(key(frame), (selfByFunction.get(key(frame)) ?? 0) + us);
  }

  // Inclusive time: a node's own time plus its subtree's, counted once per function even when it
  // recurses (an ancestor with the same key already counts the subtree).
  const inclusive = new Map<string, number>();
  const subtree = new Map<number, number>();
  const root = profile.nodes[0];
  const totalOf = (node: ProfileNode): number => {
    let sum = selfUs.get(node.id) ?? 0;
    for (const child of node.children ?? []) {
      const c = byId.get(child);
      if (c !== undefined) sum += totalOf(c);
    }
    subtree.set(node.id, sum);
    return sum;
  };
  if (root !== undefined) totalOf(root);
  const open = new Map<string, number>();
  const walk = (node: ProfileNode) => {
    const k = key(node.callFrame);
    const depth = open.get(k) ?? 0;
    if (depth === 0) inclusive.set(k, (inclusive.get(k) ?? 0) + (subtree.get(node.id) ?? 0));
    open.set(k, depth + 1);
    for (const child of node.children ?? []) {
      const c = byId.get(child);
      if (c !== undefined) walk(c);
    }
    open.set(k, depth);
  };
  if (root !== undefined) walk(root);

  const asFunctions = (
    map: Map<string, number>,
    count: number,
    filter: (where: string) => boolean,
  ) =>
    [...map]
      .map(([k, us]) => {
        const [name = '', where = ''] = k.split('\u0000');
        return { name, where, share: us / busy };
      })
      .filter((f) => filter(f.where) && f.name !== '(root)' && f.name !== IDLE)
      .sort((a, b) => b.share - a.share)
      .slice(0, count);

  return {
    byArea: [...areas]
      .map(([area, us]) => ({ area, share: us / busy }))
      .sort((a, b) => b.share - a.share)
      .slice(0, 20),
    self: asFunctions(selfByFunction, 25, () => true),
    // The origin's own named functions (middleware nests every later handler inside its `next`, so
    // its inclusive time says nothing).
    inclusive: asFunctions(inclusive, 30, (where) => /^(origin|shared)\//.test(where)).filter(
      (f) => f.name !== '(anonymous)',
    ),
  };
}

/** The summary as text tables. */
export function formatProfile(runs: readonly ProfileRun[]): string {
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
  const lines: string[] = [];
  for (const run of runs) {
    lines.push(
      `**Origin profile, 1 board x ${run.players.toLocaleString('en-US')}**: ${Math.round(run.perSecond).toLocaleString('en-US')} +1/s, ` +
        `origin CPU ${run.originCpu.toFixed(0)}% of a core, ${run.originCpuMsPerScoreAdd.toFixed(2)} ms per +1 (shares below are of busy samples)`,
      '',
      '| area | share |',
      '| --- | ---: |',
      ...run.byArea.slice(0, 12).map((a) => `| ${a.area} | ${pct(a.share)} |`),
      '',
      '| function (self) | where | share |',
      '| --- | --- | ---: |',
      ...run.self.slice(0, 15).map((f) => `| ${f.name} | ${f.where} | ${pct(f.share)} |`),
      '',
      '| function (with callees) | where | share |',
      '| --- | --- | ---: |',
      ...run.inclusive.slice(0, 25).map((f) => `| ${f.name} | ${f.where} | ${pct(f.share)} |`),
      '',
      `Profile: ${run.file}`,
      '',
    );
  }
  return lines.join('\n');
}
