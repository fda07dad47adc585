import type { ChildProcess } from 'node:child_process';
import { forkScript, nextMessage, stopChild } from './child.ts';
import type { SubscriberCommand, SubscriberReply, VersionTimes } from './subscriber-protocol.ts';

type Reply<T extends SubscriberReply['type']> = Extract<SubscriberReply, { type: T }>;

const replyOf =
  <T extends SubscriberReply['type']>(type: T) =>
  (message: unknown): message is Reply<T> =>
    (message as { type?: unknown })?.type === type;

/** The merged report of every subscriber process. */
export interface PoolReport {
  measured: number;
  complete: number;
  dropped: number;
  updates: number;
  publishToReceive: number[];
  sentToReceive: number[];
}

/**
 * SSE subscribers spread over several child processes (bench/subscribers.ts). New subscribers go
 * to the process holding the fewest; each process connects from its own 127.0.0.x address, so
 * ephemeral ports run out later.
 */
export class SubscriberPool {
  private readonly held: number[];

  private constructor(private readonly children: ChildProcess[]) {
    this.held = children.map(() => 0);
  }

  static async start(processes: number): Promise<SubscriberPool> {
    const children = Array.from({ length: processes }, () => forkScript('./subscribers.ts'));
    const pool = new SubscriberPool(children);
    try {
      await Promise.all(children.map((child) => nextMessage(child, replyOf('ready'))));
    } catch (error) {
      await pool.stop();
      throw error;
    }
    return pool;
  }

  /** The subscriber processes' pids. */
  get pids(): number[] {
    return this.children.flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  get size(): number {
    return this.held.reduce((a, b) => a + b, 0);
  }

  /** Opens `count` more subscribers on `url`; resolves with how many failed to open. */
  async open(
    url: string,
    count: number,
    concurrency = 64,
  ): Promise<{ failed: number; refused: number; firstError?: string }> {
    const share = this.children.map(() => 0);
    const load = (k: number) => (this.held[k] ?? 0) + (share[k] ?? 0);
    for (let i = 0; i < count; i++) {
      let least = 0;
      for (let k = 1; k < share.length; k++) if (load(k) < load(least)) least = k;
      share[least] = (share[least] ?? 0) + 1;
    }
    const replies = await Promise.all(
      this.children.map(async (child, k) => {
        const n = share[k] ?? 0;
        if (n === 0)
          return { open: this.held[k] ?? 0, failed: 0, refused: 0, firstError: undefined };
        return this.ask(
          child,
          { type: 'open', url, count: n, concurrency, addresses: [`127.0.0.${k + 2}`] },
          'opened',
          300_000,
        );
      }),
    );
    let failed = 0;
    let refused = 0;
    let firstError: string | undefined;
    replies.forEach((reply, k) => {
      this.held[k] = reply.open;
      failed += reply.failed;
      refused += reply.refused;
      firstError ??= reply.firstError;
    });
    return firstError === undefined ? { failed, refused } : { failed, refused, firstError };
  }

  /** How many open subscribers have reached `version`, and how many are open. */
  async progress(version: number): Promise<{ reached: number; open: number }> {
    const replies = await Promise.all(
      this.children.map((child) => this.ask(child, { type: 'progress', version }, 'progress')),
    );
    return {
      reached: replies.reduce((sum, r) => sum + r.reached, 0),
      open: replies.reduce((sum, r) => sum + r.open, 0),
    };
  }

  /** Waits until every open subscriber has reached `version`, or the time is up. */
  async waitForVersion(
    version: number,
    timeoutMs: number,
  ): Promise<{ reached: number; open: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const progress = await this.progress(version);
      if (progress.reached >= progress.open || Date.now() >= deadline) return progress;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Starts a measurement: what arrives from now on is what `report` looks at. */
  async mark(): Promise<void> {
    await Promise.all(this.children.map((child) => this.ask(child, { type: 'mark' }, 'marked')));
  }

  async report(sent: VersionTimes[]): Promise<PoolReport> {
    const replies = await Promise.all(
      this.children.map((child) => this.ask(child, { type: 'report', sent }, 'report')),
    );
    return {
      measured: replies.reduce((sum, r) => sum + r.measured, 0),
      complete: replies.reduce((sum, r) => sum + r.complete, 0),
      dropped: replies.reduce((sum, r) => sum + r.dropped, 0),
      updates: replies.reduce((sum, r) => sum + r.updates, 0),
      publishToReceive: replies.flatMap((r) => r.publishToReceive),
      sentToReceive: replies.flatMap((r) => r.sentToReceive),
    };
  }

  /** Closes every subscriber (the processes stay, ready for more). */
  async closeAll(): Promise<void> {
    await Promise.all(this.children.map((child) => this.ask(child, { type: 'close' }, 'closed')));
    this.held.fill(0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((child) => stopChild(child)));
  }

  private ask<T extends SubscriberReply['type']>(
    child: ChildProcess,
    command: SubscriberCommand,
    answer: T,
    timeoutMs = 60_000,
  ): Promise<Reply<T>> {
    const reply = nextMessage(child, replyOf(answer), timeoutMs);
    child.send(command);
    return reply;
  }
}
