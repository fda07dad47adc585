import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessMemory } from './result.ts';

// What /proc says about the processes under test, read the way `ps` and `top` do. Services are
// started as session leaders (local/processes.ts spawns them detached), and the Pushpin runner puts
// each of its programs in a process group of its own but leaves them in its session: a session is
// exactly what a service runs (for Pushpin 1.36: the runner, condure, zurl, pushpin-proxy,
// pushpin-handler). Linux only.

/** The processes of one part of the system, found again at each reading (Pushpin's can change). */
export type ProcessSet = () => number[];

/** Every process in the session `sid`. */
export function sessionOf(sid: number): ProcessSet {
  return () => {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const fields = statFields(Number(entry));
      if (fields !== undefined && Number(fields[3]) === sid) pids.push(Number(entry));
    }
    return pids;
  };
}

/** Resident memory (VmRSS) of each process in the session `sid`. */
export function sessionMemory(sid: number): ProcessMemory[] {
  return sessionOf(sid)()
    .flatMap((pid) => {
      try {
        return [processMemory(pid)];
      } catch {
        return []; // exited while we looked
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Resident memory of one process (the origin is one Node process). */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const name = /^Name:\s+(.+)$/m.exec(status)?.[1] ?? '?';
  const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
  return { name, pid, rssBytes: rssKb * 1024 };
}

export function totalRss(processes: readonly ProcessMemory[]): number {
  return processes.reduce((sum, p) => sum + p.rssBytes, 0);
}

/** utime + stime are counted in clock ticks, which Linux fixes at 100 per second for userspace. */
const TICKS_PER_SECOND = 100;

/** Shares of one core (100 = one core busy) used by each named set, and the whole machine's load. */
export interface CpuShares<K extends string> {
  /** Percent of one core, per named set of processes. */
  byPart: Record<K, number>;
  /** Percent of one core per program, keyed `part/program` (e.g. `pushpin/condure`). */
  byProcess: Record<string, number>;
  /** Percent of all cores busy (anything on the machine, other users included). */
  machineBusy: number;
  /** How long the shares were measured over. */
  seconds: number;
}

/** The parts every figure is split into; see `cpuShares` in result.ts. */
export function benchParts(originPid: number, pushpinSid: number, subscriberPids: () => number[]) {
  return {
    origin: () => [originPid],
    pushpin: sessionOf(pushpinSid),
    bench: () => [process.pid],
    subscribers: subscriberPids,
  };
}

/** Starts counting; the returned function stops and reports the shares since the start. */
export function watchCpu<K extends string>(parts: Record<K, ProcessSet>): () => CpuShares<K> {
  const startedAt = performance.now();
  const start = readParts(parts);
  const machineStart = machineTicks();
  return () => {
    const seconds = (performance.now() - startedAt) / 1000;
    const end = readParts(parts);
    const machineEnd = machineTicks();
    const percent = (ticks: number) =>
      Math.round((ticks / TICKS_PER_SECOND / Math.max(seconds, 1e-3)) * 1000) / 10;
    const byPart = {} as Record<K, number>;
    const byProcessTicks = new Map<string, number>();
    for (const name of Object.keys(parts) as K[]) {
      let ticks = 0;
      for (const [pid, { ticks: value, program }] of end[name] ?? new Map()) {
        const used = value - (start[name]?.get(pid)?.ticks ?? 0);
        ticks += used;
        const key = `${name}/${program}`;
        byProcessTicks.set(key, (byProcessTicks.get(key) ?? 0) + used);
      }
      byPart[name] = percent(ticks);
    }
    const byProcess = Object.fromEntries(
      [...byProcessTicks].map(([key, ticks]) => [key, percent(ticks)]),
    );
    const total = machineEnd.total - machineStart.total;
    const idle = machineEnd.idle - machineStart.idle;
    return {
      byPart,
      byProcess,
      machineBusy: total > 0 ? Math.round((1 - idle / total) * 1000) / 10 : 0,
      seconds,
    };
  };
}

type Ticks = Map<number, { ticks: number; program: string }>;

function readParts<K extends string>(parts: Record<K, ProcessSet>): Record<K, Ticks> {
  const out = {} as Record<K, Ticks>;
  for (const name of Object.keys(parts) as K[]) {
    const set = parts[name];
    const ticks: Ticks = new Map();
    for (const pid of set()) {
      const stat = readStat(pid);
      if (stat === undefined) continue;
      ticks.set(pid, {
        ticks: Number(stat.fields[11]) + Number(stat.fields[12]),
        program: stat.program,
      });
    }
    out[name] = ticks;
  }
  return out;
}

// "pid (comm) state ppid pgrp session ... utime stime": comm may hold spaces and parentheses.
// After it: state is [0], ppid [1], pgrp [2], session [3], utime [11], stime [12].
function readStat(pid: number): { program: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return {
      program: stat.slice(stat.indexOf('(') + 1, close),
      fields: stat.slice(close + 2).split(' '),
    };
  } catch {
    return undefined;
  }
}

function statFields(pid: number): string[] | undefined {
  return readStat(pid)?.fields;
}

function machineTicks(): { idle: number; total: number } {
  try {
    const cpu =
      readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1) ?? [];
    const values = cpu.map(Number);
    const total = values.reduce((a, b) => a + b, 0);
    return { idle: (values[3] ?? 0) + (values[4] ?? 0), total };
  } catch {
    return { idle: 0, total: 0 };
  }
}
