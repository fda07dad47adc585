import { nextBoundary } from './domain/schedule.ts';
import { dueBoundary, type ScheduledBoard } from './domain/seasons.ts';
import type { BoardStore } from './store/board-store.ts';

/** Arms and disarms one-shot timers: `setTimeout` in the origin, a fake in tests. */
export interface Timers {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Node's timers, unref'd: a waiting season never keeps the process alive. */
export const nodeTimers: Timers = {
  set: (run, ms) => setTimeout(run, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The longest a timer may wait: Node fires at once past 2^31 − 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SeasonSchedulerOptions {
  store: Pick<BoardStore, 'scheduledBoards' | 'rollSeason'>;
  now: () => Date;
  timers?: Timers | undefined;
  /**
   * The longest wait before the schedules are read again, whatever the next boundary: another
   * origin (on Redis) may set a schedule this one never hears of. Default one minute.
   */
  rescanMs?: number | undefined;
  /** A board rolled into a new season at `boundary` (by this origin). */
  onRoll?: ((boardId: string, boundary: Date) => void) | undefined;
  onError?: ((error: unknown, boardId: string | undefined) => void) | undefined;
}

/**
 * Rolls every board with a schedule into its next season when a boundary passes. Each check
 * reads the boards' schedules, rolls those whose last boundary at or before now falls after their
 * season began, and arms one timer for the nearest next boundary (or the rescan, if sooner).
 *
 * A boundary that passed while the origin was down is applied by the first check, once: a board
 * down for three weeks on a weekly schedule rolls once, at the LAST boundary that passed; that
 * season's standings are archived once, ending at that boundary, and the next season starts
 * there. Several origins may check at once (Redis): `rollSeason` rolls a boundary once, and the
 * others find it done.
 */
export class SeasonScheduler {
  private readonly timers: Timers;
  private readonly rescanMs: number;
  private timer: unknown;
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: SeasonSchedulerOptions) {
    this.timers = options.timers ?? nodeTimers;
    this.rescanMs = options.rescanMs ?? 60_000;
  }

  /** Applies every boundary already passed, then keeps watching. Resolves after that first check. */
  start(): Promise<void> {
    this.stopped = false;
    return this.check();
  }

  /**
   * Checks now (after a schedule was set, or from the timer). Checks run one at a time; a check
   * asked for while one runs shares the next. Never rejects: failures go to `onError`, and the
   * next check (at the rescan at the latest) tries again.
   */
  check(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    const run = this.chain.then(() => {
      this.queued = undefined;
      return this.tick();
    });
    this.queued = run;
    this.chain = run;
    return run;
  }

  /** Disarms the timer; checks already asked for still run. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private async tick(): Promise<void> {
    this.disarm();
    let next = this.options.now().getTime() + this.rescanMs;
    try {
      for (const board of await this.options.store.scheduledBoards()) {
        next = Math.min(next, await this.roll(board));
      }
    } catch (error) {
      this.options.onError?.(error, undefined);
    }
    this.arm(next);
  }

  /** Rolls the board if a boundary is due; returns when its next boundary falls (ms). */
  private async roll(board: ScheduledBoard): Promise<number> {
    const now = this.options.now();
    try {
      const due = dueBoundary(board, now);
      if (due !== undefined && (await this.options.store.rollSeason(board.id, due))) {
        this.options.onRoll?.(board.id, due);
      }
      return nextBoundary(board.schedule, now).getTime();
    } catch (error) {
      // One board's failure (a store error, a board deleted meanwhile) leaves the others alone.
      this.options.onError?.(error, board.id);
      return Number.POSITIVE_INFINITY;
    }
  }

  private arm(at: number): void {
    if (this.stopped) return;
    const wait = Math.min(Math.max(at - this.options.now().getTime(), 0), MAX_TIMER_MS);
    this.timer = this.timers.set(() => void this.check(), wait);
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    this.timers.clear(this.timer);
    this.timer = undefined;
  }
}
