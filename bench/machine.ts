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
