import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { ProcessFamily, processTable } from './process-tree.ts';

/** The one error the local runner throws: what went wrong, and what to do about it. */
export class ServiceError extends Error {
  override name = 'ServiceError';
}

/** How a service's process ended. */
export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running child process that answers HTTP. */
export interface Service {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Settles when the process has exited, however it ended. */
  readonly exited: Promise<ServiceExit>;
  /** How the process ended, or undefined while it runs. */
  exit(): ServiceExit | undefined;
  /** The most recent lines the process wrote (stdout and stderr), oldest first. */
  logs(): string[];
  /** SIGTERM, then SIGKILL once `graceMs` have passed; settles when everything it started is gone. */
  stop(graceMs?: number): Promise<ServiceExit>;
  /** SIGKILL, no grace: what a crash looks like. Settles when the process is gone. */
  kill9(): Promise<ServiceExit>;
}

/** What to run and how to recognize it. */
export interface ServiceOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** Where the service answers once it is up; used in messages and by `waitForHttp` callers. */
  url: string;
  cwd?: string | undefined;
  /** The whole environment of the child (defaults to this process's). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Called with every line the process writes; `npm start` prints them, tests keep them quiet. */
  onLine?: ((line: string) => void) | undefined;
  /** How many recent lines `logs()` keeps. */
  keepLines?: number | undefined;
}

const DEFAULT_GRACE_MS = 5_000;

const running = new Set<Service>();
// Everything services started that may still run, including what outlived its service's leader.
const families = new Set<ProcessFamily>();
let hooksInstalled = false;

/**
 * Starts a child process as a service. The child leads a process group of its own, so Ctrl-C in a
 * terminal reaches only this process, which then stops its services in order; `stop()` and
 * `kill9()` reach everything the child started too (Pushpin starts four programs).
 */
export function spawnService(options: ServiceOptions): Service {
  installHooks();
  const keepLines = options.keepLines ?? 200;
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  const record = (line: string) => {
    lines.push(line);
    if (lines.length > keepLines) lines.shift();
    options.onLine?.(line);
  };
  const family = child.pid === undefined ? undefined : new ProcessFamily(child.pid);
  let ending: Promise<void> | undefined;
  let exitStatus: ServiceExit | undefined;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<ServiceExit>((resolve) => {
    const finish = (status: ServiceExit) => {
      if (exitStatus !== undefined) return;
      exitStatus = status;
      running.delete(service);
      // Died on its own: what it started goes too, a service is gone as a whole.
      ending ??= endFamily(family, DEFAULT_GRACE_MS, false);
      // Give the pipes a moment to deliver the last lines (often the reason it died), but do not
      // wait for them: a grandchild that survived its parent can hold them open.
      void Promise.race([closed, sleep(500)]).then(() => resolve(status));
    };
    child.once('exit', (code, signal) => finish({ code, signal }));
    child.once('error', (error) => {
      record(`${options.name}: ${error.message}`);
      if (child.pid === undefined) finish({ code: null, signal: null });
    });
  });
  readLines(child.stdout, record);
  readLines(child.stderr, record);

  const service: Service = {
    name: options.name,
    url: options.url,
    pid: child.pid ?? -1,
    exited,
    exit: () => exitStatus,
    logs: () => [...lines],
    async stop(graceMs = DEFAULT_GRACE_MS) {
      ending ??= endFamily(family, graceMs, true);
      await ending;
      return exited;
    },
    async kill9() {
      ending = endFamily(family, 0, true);
      await ending;
      return exited;
    },
  };
  if (family !== undefined) {
    family.track();
    running.add(service);
    families.add(family);
  }
  return service;
}

// Ends a family: SIGTERM to its leader, so that it stops what it started in its own order (Pushpin
// does), then SIGTERM to whatever outlives the leader, and SIGKILL to all that is left once the
// grace time is over (at once when there is none). Settles when none of it runs any more.
async function endFamily(
  family: ProcessFamily | undefined,
  graceMs: number,
  leaderToo: boolean,
): Promise<void> {
  if (family === undefined) return;
  family.track();
  const deadline = Date.now() + graceMs;
  let phase: 'leader' | 'rest' | 'killed' = leaderToo ? 'leader' : 'rest';
  if (graceMs === 0) {
    family.signal('SIGKILL');
    phase = 'killed';
  } else if (phase === 'leader') {
    family.signal('SIGTERM', [family.leader]);
  } else {
    family.signal('SIGTERM');
  }
  for (let alive = family.alive(); alive.length > 0; alive = family.alive()) {
    if (phase !== 'killed' && Date.now() >= deadline) {
      family.signal('SIGKILL');
      phase = 'killed';
    } else if (phase === 'leader' && !alive.includes(family.leader)) {
      family.signal('SIGTERM');
      phase = 'rest';
    }
    await sleep(25);
  }
  families.delete(family);
}

/** Stops every service still running, all at once. */
export async function stopAllServices(graceMs = DEFAULT_GRACE_MS): Promise<void> {
  await Promise.allSettled([...running].map((service) => service.stop(graceMs)));
}

/** A TCP port on 127.0.0.1 that was free a moment ago: bind port 0 and let the kernel choose. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new ServiceError('freePort: the kernel gave no port'));
      });
    });
  });
}

/** Whether something already listens on `host:port` (it cannot be bound). */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(true));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

export interface WaitForHttpOptions {
  timeoutMs?: number;
  /** The service expected to answer: if it exits first, waiting stops and its logs explain why. */
  service?: Service;
  /** The status to wait for; by default any answer counts (the server is up). */
  status?: number;
}

/** Polls `url` with GETs until it answers (with `options.status`, when given). */
export async function waitForHttp(url: string, options: WaitForHttpOptions = {}): Promise<void> {
  const { timeoutMs = 30_000, service, status } = options;
  const deadline = Date.now() + timeoutMs;
  const died = service?.exited.then(() => 'exited' as const);
  let last: number | undefined;
  while (Date.now() < deadline) {
    if (service?.exit() !== undefined) break;
    const answered = await Promise.race([
      probe(url, Math.min(2_000, Math.max(1, deadline - Date.now()))),
      ...(died ? [died] : []),
    ]);
    if (answered === 'exited') break;
    if (answered !== undefined && (status === undefined || answered === status)) return;
    last = answered ?? last;
    await Promise.race([sleep(100), ...(died ? [died] : [])]);
  }
  throw notAnswered(url, options, last);
}

function notAnswered(url: string, options: WaitForHttpOptions, last: number | undefined) {
  const { timeoutMs = 30_000, service, status } = options;
  const exit = service?.exit();
  const what = service ? `${service.name} (pid ${service.pid})` : url;
  const wanted = status === undefined ? '' : ` ${status}`;
  const lastSeen = last === undefined ? '' : ` (last answer: ${last})`;
  const why =
    exit !== undefined
      ? `${what} exited (${describeExit(exit)}) before ${url} answered${wanted}`
      : `${url} did not answer${wanted} within ${timeoutMs} ms${lastSeen}`;
  return new ServiceError(service ? `${why}.\n${formatLogs(service)}` : `${why}.`);
}

/** A service's last log lines, ready to append to an error message. */
export function formatLogs(service: Service, count = 30): string {
  const lines = service.logs().slice(-count);
  if (lines.length === 0) return `${service.name} wrote nothing.`;
  return `Last lines from ${service.name}:\n${lines.map((line) => `  | ${line}`).join('\n')}`;
}

/** How a process ended, in words: "code 3", "signal SIGKILL", "could not start". */
export function describeExit(exit: ServiceExit): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  if (exit.code !== null) return `code ${exit.code}`;
  return 'could not start';
}

// The status `url` answers with, or undefined when it does not answer.
async function probe(url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const response = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split(/\r?\n/);
    partial = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  });
  stream.on('end', () => {
    if (partial !== '') onLine(partial);
    partial = '';
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Children must not outlive this process: on Ctrl-C or SIGTERM stop them gracefully and exit
// with the signal's conventional status; on any other exit (which cannot wait) kill them. One
// Ctrl-C often arrives several times (from the terminal, relayed again by npm): only a signal
// that comes a while after the first one means "stop waiting, kill them now".
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    const status = 128 + (constants.signals[signal] ?? 1);
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < 1_000) return;
      killAllNow();
      process.exit(status);
    }
    firstSignalAt = Date.now();
    void stopAllServices().finally(() => process.exit(status));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);
  // Learn what services start while their process trees are intact: a child re-parented after
  // its parent died can no longer be traced back to the service.
  setInterval(() => {
    if (families.size === 0) return;
    const table = processTable();
    for (const family of families) family.track(table);
  }, 500).unref();
}

function killAllNow(): void {
  for (const family of families) {
    family.track();
    family.signal('SIGKILL');
  }
}
