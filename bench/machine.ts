import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import type { BenchResult } from './result.ts';

/** What the figures were measured on. */
export function describeMachine(pushpinVersion: string): BenchResult['machine'] {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    node: process.version,
    pushpin: pushpinVersion,
    openFilesLimit: openFilesLimit(),
  };
}

/**
 * The code that was measured: the commit, and the files of the measured parts (origin, shared,
 * local) that differed from it, since a run uses the working tree as it is.
 */
export function sourceState(): { commit: string; uncommitted: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const status = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no', '--', 'origin', 'shared', 'local'],
      { encoding: 'utf8' },
    );
    const uncommitted = status
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.slice(3));
    return { commit, uncommitted };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
}

/** The 1, 5 and 15 minute load averages and `uptime`'s own line: how busy the machine was. */
export function machineLoad(): { averages: [number, number, number]; uptime: string } {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  let uptime: string;
  try {
    uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    uptime = `load average: ${one.toFixed(2)}, ${five.toFixed(2)}, ${fifteen.toFixed(2)}`;
  }
  return { averages: [one, five, fifteen], uptime };
}

/**
 * This process's soft limit on open files (children inherit it). Node raises the soft limit to
 * the hard one at start-up, so this is what `ulimit -Hn` allowed.
 */
export function openFilesLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (match?.[1] === 'unlimited') return Number.MAX_SAFE_INTEGER;
    if (match?.[1] !== undefined) return Number(match[1]);
  } catch {
    // Not Linux: nothing to read; the caller only uses this to warn.
  }
  return -1;
}
