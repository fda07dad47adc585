import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// CPU time of given processes over a window, from /proc (Linux only): utime + stime of each
// process (all its threads), in clock ticks, converted with the kernel's own tick rate.

/** Clock ticks per second of /proc's CPU times, as `getconf CLK_TCK` says (100 on Linux). */
export function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(ticks) && ticks > 0) return ticks;
  } catch {
    // No getconf: Linux has reported 100 to userspace since 2.6 whatever CONFIG_HZ is.
  }
  return 100;
}

const TICKS = clockTicksPerSecond();

/** utime + stime of one process in ticks, or undefined once it is gone. */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; utime and stime are the
    // 12th and 13th fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function machineTicks(): { idle: number; total: number } {
  const values = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // idle and iowait: a core waiting for the disk is not busy.
  return {
    idle: (values[3] ?? 0) + (values[4] ?? 0),
    total: values.reduce((a, b) => a + b, 0),
  };
}

/** CPU milliseconds each named group of processes used over the window, and how busy the machine was. */
export interface CpuWindow<K extends string> {
  ms: Record<K, number[]>;
  /** Percent of all cores busy over the window (everything on the machine). */
  machineBusy: number;
  seconds: number;
}

/**
 * Reads every process's CPU time now; the returned function reads it again and gives the
 * difference, per process, in ms. A process that ended in between counts 0.
 */
export function startCpuWindow<K extends string>(
  groups: Record<K, readonly number[]>,
): () => CpuWindow<K> {
  const names = Object.keys(groups) as K[];
  const read = () =>
    new Map(names.map((name) => [name, groups[name].map((pid) => processTicks(pid))]));
  const startedAt = performance.now();
  const before = read();
  const machineBefore = machineTicks();
  return () => {
    const after = read();
    const machineAfter = machineTicks();
    const ms = {} as Record<K, number[]>;
    for (const name of names) {
      const was = before.get(name) ?? [];
      ms[name] = (after.get(name) ?? []).map((ticks, i) => {
        const start = was[i];
        return ticks === undefined || start === undefined ? 0 : ((ticks - start) * 1000) / TICKS;
      });
    }
    const total = machineAfter.total - machineBefore.total;
    const idle = machineAfter.idle - machineBefore.idle;
    return {
      ms,
      machineBusy: total > 0 ? (1 - idle / total) * 100 : 0,
      seconds: (performance.now() - startedAt) / 1000,
    };
  };
}
