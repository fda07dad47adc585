import { forkScript, nextMessage, stopChild } from './child.ts';
import { runLoad } from './load.ts';
import { watchCpu } from './proc.ts';
import type { BenchResult } from './result.ts';

export interface CeilingOptions {
  connections: number;
  seconds: number;
  warmupSeconds: number;
}

const isPort = (message: unknown): message is { port: number } =>
  typeof (message as { port?: unknown })?.port === 'number';

/**
 * Requests per second of a minimal Node `http` server and a minimal Express app on this machine,
 * with the same load generator and the same request shape as the `+1` runs (a POST with no body).
 */
export async function measureCeiling(options: CeilingOptions): Promise<BenchResult['ceiling']> {
  const http = await measureServer('http', options);
  const express = await measureServer('express', options);
  return { http, express };
}

async function measureServer(kind: 'http' | 'express', options: CeilingOptions) {
  const child = forkScript('./ceiling-server.ts', [kind]);
  try {
    const { port } = await nextMessage(child, isPort);
    const load = (seconds: number) =>
      runLoad({
        url: `http://127.0.0.1:${port}/`,
        method: 'POST',
        headers: { Accept: 'application/json' },
        connections: options.connections,
        seconds,
      });
    if (options.warmupSeconds > 0) await load(options.warmupSeconds);
    const cpu = watchCpu({ server: () => (child.pid === undefined ? [] : [child.pid]) });
    const figure = await load(options.seconds);
    const shares = cpu();
    return {
      ...figure,
      serverCpu: shares.byPart.server,
      serverCpuMsPerRequest: (shares.byPart.server * 10) / Math.max(1, figure.perSecond),
      machineBusy: shares.machineBusy,
    };
  } finally {
    await stopChild(child);
  }
}
