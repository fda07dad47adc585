import { pageChannel } from '../contract/events.ts';
import { apiPaths } from '../contract/paths.ts';
import { preciseNow } from '../local/publish-relay.ts';
import { type BenchStack, createBoardWithPlayers } from './fixture.ts';
import { liveHeapBytes } from './heap.ts';
import { benchParts, processMemory, sessionMemory, totalRss, watchCpu } from './proc.ts';
import type { FanoutRun, HeldFigure } from './result.ts';
import { summarize } from './stats.ts';
import type { SubscriberPool } from './subscriber-pool.ts';
import type { VersionTimes } from './subscriber-protocol.ts';

export interface FanoutStep {
  subscribers: number;
  /**
   * Time between updates: wider than the coalescing interval, so each is its own event, and wide
   * enough that one update has reached everyone before the next (this measures fan-out, not a
   * queue that grows because deliveries are asked for faster than the machine makes them).
   */
  spacingMs: number;
}

export interface FanoutOptions {
  /** Ascending; subscribers are added between steps, never reopened. */
  steps: readonly FanoutStep[];
  /** Updates per step, each its own event. */
  updates: number;
  /** How long to wait for the last update to reach everyone before counting who missed it. */
  settleMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fan-out latency and held-connection memory on one board through Pushpin. Memory is read at each
 * step while every subscriber is idle (before its updates); the largest step is the held figure.
 */
export async function measureFanout(
  bench: BenchStack,
  pool: SubscriberPool,
  options: FanoutOptions,
): Promise<{ fanout: FanoutRun[]; held: HeldFigure }> {
  const { relay, direct } = bench;
  const { boardId, playerIds } = await createBoardWithPlayers(direct, 'Fan-out', 10);
  const url = new URL(apiPaths.board(boardId), bench.pushpinUrl).href;
  // Ten players all sit on the first page: every +1 is published there.
  const channel = pageChannel(boardId, 0);
  const pushpinPid = bench.pushpin.pid;
  const originPid = bench.origin.pid;

  // Let the origin settle after creating the board, so "before" is not mid-garbage.
  await sleep(1000);
  const pushpinBefore = sessionMemory(pushpinPid);
  const originBefore = processMemory(originPid).rssBytes;
  const rssBySubscribers: HeldFigure['pushpinRssBySubscribers'] = [
    { subscribers: 0, rssBytes: totalRss(pushpinBefore) },
  ];
  let connectMs = 0;
  let refused = 0;
  let failed = 0;
  let version = (await direct.getBoard(boardId)).version;
  const runs: FanoutRun[] = [];
  let held:
    | Omit<
        HeldFigure,
        'pushpinRssBySubscribers' | 'originLiveHeapClosedBytes' | 'originAfterUpdatesBytes'
      >
    | undefined;

  for (const { subscribers: step, spacingMs } of options.steps) {
    const started = preciseNow();
    const opened = await pool.open(url, step - pool.size);
    refused += opened.refused;
    failed += opened.failed;
    if (opened.refused > 0) {
      console.error(
        `  ${opened.refused} subscribe attempts refused (first: ${opened.firstError}), ${opened.failed} gave up`,
      );
    }
    const ready = await pool.waitForVersion(version, 30_000);
    connectMs += preciseNow() - started;
    await sleep(500);
    const pushpinNow = sessionMemory(pushpinPid);
    rssBySubscribers.push({ subscribers: ready.open, rssBytes: totalRss(pushpinNow) });
    if (step === options.steps[options.steps.length - 1]?.subscribers) {
      const originAfter = processMemory(originPid).rssBytes;
      // After the RSS reading: writing a snapshot grows the RSS itself.
      const heapHeld = await liveHeapBytes(originPid, bench.heapDir);
      held = {
        subscribers: ready.open,
        connectSeconds: connectMs / 1000,
        connectRefused: refused,
        connectFailed: failed,
        pushpinBefore,
        pushpinAfter: pushpinNow,
        pushpinBytesPerConnection:
          (totalRss(pushpinNow) - totalRss(pushpinBefore)) / Math.max(1, ready.open),
        originBeforeBytes: originBefore,
        originAfterBytes: originAfter,
        originGrowthBytes: originAfter - originBefore,
        originLiveHeapHeldBytes: heapHeld,
      };
    }

    await pool.mark();
    const cpu = watchCpu(benchParts(bench.origin.pid, bench.pushpin.pid, () => pool.pids));
    const sent: { version: number; sentAt: number }[] = [];
    for (let i = 0; i < options.updates; i++) {
      const sentAt = preciseNow();
      const player = playerIds[i % playerIds.length] as string;
      const answer = await fetch(new URL(apiPaths.scoreAdd(boardId, player), bench.originUrl), {
        method: 'POST',
      });
      const body = (await answer.json()) as { scoredAt?: number };
      if (answer.status !== 200 || typeof body.scoredAt !== 'number') {
        throw new Error(`fan-out: +1 answered ${answer.status} ${JSON.stringify(body)}`);
      }
      version = body.scoredAt;
      sent.push({ version, sentAt });
      await sleep(Math.max(0, spacingMs - (preciseNow() - sentAt)));
    }
    await pool.waitForVersion(version, options.settleMs);
    const shares = cpu();
    const report = await pool.report(withPublishTimes(sent, relay.seen, channel));
    runs.push({
      subscribers: step,
      connected: report.measured,
      updates: options.updates,
      spacingMs,
      publishToReceive: summarize(report.publishToReceive),
      scoreAddToReceive: summarize(report.sentToReceive),
      deliveredAll: report.complete,
      deliveredShare: report.complete / Math.max(1, step),
      dropped: report.dropped,
      cpu: { ...shares.byPart, machineBusy: shares.machineBusy, processes: shares.byProcess },
      seconds: shares.seconds,
    });
  }
  const originAfterUpdates = processMemory(originPid).rssBytes;
  await pool.closeAll();
  if (held === undefined) throw new Error('fan-out: no steps');
  await sleep(1000);
  const heapClosed = await liveHeapBytes(originPid, bench.heapDir);
  return {
    fanout: runs,
    held: {
      ...held,
      originLiveHeapClosedBytes: heapClosed,
      originAfterUpdatesBytes: originAfterUpdates,
      pushpinRssBySubscribers: rssBySubscribers,
    },
  };
}

/** Each version's publish time: the first publish on the page that carries it. */
function withPublishTimes(
  sent: readonly { version: number; sentAt: number }[],
  seen: readonly { channel: string; id: number; at: number }[],
  channel: string,
): VersionTimes[] {
  return sent.map(({ version, sentAt }) => {
    const publish = seen.find((p) => p.channel === channel && p.id >= version);
    // A publish the relay never saw (it would show up as missed deliveries) is timed from the send.
    return { version, sentAt, publishedAt: publish?.at ?? sentAt };
  });
}
