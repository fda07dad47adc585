import { detectPushpin } from '../local/pushpin.ts';
import { detectRedis } from '../local/redis.ts';
import { describeMachine, machineLoad, sourceState } from './machine.ts';

/** What every section on Redis records of its run: when, where, on what code, how loaded. */
export interface SectionRun {
  mode: 'full' | 'quick';
  command: string;
  date: string;
  seconds: number;
  machine: ReturnType<typeof describeMachine>;
  redisVersion: string;
  load: { before: number[]; after: number[] };
  source: ReturnType<typeof sourceState>;
}

/**
 * Starts a section: reads the machine, the code and the load, and says so on stderr. `finish()`
 * gives the run's record once the section is done.
 */
export async function startSection(
  name: string,
  mode: 'full' | 'quick',
  command: string,
): Promise<{ finish(): SectionRun }> {
  const started = performance.now();
  const loadBefore = machineLoad();
  const source = sourceState();
  const pushpin = await detectPushpin();
  const redis = await detectRedis();
  const machine = describeMachine(`${pushpin.major}.${pushpin.minor}.${pushpin.patch}`);
  process.stderr.write(
    `bench (${mode}, ${name} only) on ${machine.cores} cores, ${loadBefore.uptime}\n`,
  );
  return {
    finish: () => ({
      mode,
      command,
      date: new Date().toISOString(),
      seconds: (performance.now() - started) / 1000,
      machine,
      redisVersion: `${redis.major}.${redis.minor}.${redis.patch}`,
      load: { before: loadBefore.averages, after: machineLoad().averages },
      source,
    }),
  };
}

/** The run's first lines in Markdown: the machine, the load before and after, the code. */
export function runHeader(run: SectionRun): string[] {
  const { machine: m, source } = run;
  const loadavg = (l: readonly number[]) => l.map((n) => n.toFixed(2)).join(', ');
  const changes = source.uncommitted.length > 0;
  return [
    `- Run ${run.date} (\`${run.command}\`, ${run.seconds.toFixed(0)} s): ${m.cores} x ${m.cpuModel}, ` +
      `${(m.memoryBytes / 1024 ** 3).toFixed(0)} GB, ${m.os}, Node ${m.node}, Pushpin ${m.pushpin}, Redis ${run.redisVersion}.`,
    `- Load averages (1, 5, 15 min): ${loadavg(run.load.before)} before, ${loadavg(run.load.after)} after.`,
    `- Code: commit ${source.commit.slice(0, 12)}${changes ? ` with uncommitted changes to ${source.uncommitted.join(', ')}` : ''}.`,
  ];
}
