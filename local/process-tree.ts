import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** One row of the process table. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** Dead but not reaped. Orphans go to PID 1, and not every PID 1 (VM init shims) reaps them. */
  zombie: boolean;
  /** When it started: with the pid, tells a process from a later one that reused its pid. */
  start: string;
}

/** The process table now: from /proc on Linux, from `ps` elsewhere (macOS). */
export function processTable(): ProcessInfo[] {
  return existsSync('/proc/self/stat') ? fromProc() : fromPs();
}

function fromProc(): ProcessInfo[] {
  const table: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ... starttime(22nd)": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    table.push({
      pid: Number(entry),
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      zombie: fields[0] === 'Z',
      start: fields[19] ?? '',
    });
  }
  return table;
}

function fromPs(): ProcessInfo[] {
  const output = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat=,lstart='], {
    encoding: 'utf8',
  });
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 5)
    .map(([pid, ppid, pgid, stat = '', ...start]) => ({
      pid: Number(pid),
      ppid: Number(ppid),
      pgid: Number(pgid),
      zombie: stat.startsWith('Z'),
      start: start.join(' '),
    }));
}

/**
 * A process and everything it started: its descendants, and the members of its process group.
 * Pushpin's runner puts each of its programs in a process group of its own, so signalling the
 * group is not enough; and once a parent dies its children are re-parented, so the family is
 * remembered while the tree is intact (`track()`), and only pids that still carry their original
 * start time are signalled.
 */
export class ProcessFamily {
  private readonly known = new Map<number, string>();

  constructor(readonly leader: number) {}

  /** Adds the members running now. */
  track(table: ProcessInfo[] = processTable()): void {
    const children = new Map<number, ProcessInfo[]>();
    for (const info of table) {
      const siblings = children.get(info.ppid) ?? [];
      siblings.push(info);
      children.set(info.ppid, siblings);
    }
    const queue = table.filter((info) => info.pid === this.leader || info.pgid === this.leader);
    const seen = new Set<number>();
    for (let info = queue.shift(); info !== undefined; info = queue.shift()) {
      if (seen.has(info.pid) || info.zombie) continue;
      seen.add(info.pid);
      this.known.set(info.pid, info.start);
      queue.push(...(children.get(info.pid) ?? []));
    }
  }

  /** Known members still running. */
  alive(table: ProcessInfo[] = processTable()): number[] {
    const running = new Map(table.filter((i) => !i.zombie).map((i) => [i.pid, i.start]));
    const alive: number[] = [];
    for (const [pid, start] of this.known) {
      if (running.get(pid) === start) alive.push(pid);
      else this.known.delete(pid);
    }
    return alive;
  }

  /** Sends a signal to the members still running (or to those of `only`); returns how many. */
  signal(signal: NodeJS.Signals, only?: readonly number[]): number {
    let reached = 0;
    for (const pid of this.alive()) {
      if (only !== undefined && !only.includes(pid)) continue;
      try {
        process.kill(pid, signal);
        reached++;
      } catch {
        // Gone in between.
      }
    }
    return reached;
  }
}
