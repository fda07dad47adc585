import autocannon from 'autocannon';
import type { LoadFigure } from './result.ts';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Paths to cycle through, one per request (e.g. one per player). */
  paths?: readonly string[];
  connections: number;
  seconds: number;
}

/**
 * A closed-loop load run with autocannon as a library: `connections` clients, each sending its
 * next request as soon as the previous one is answered.
 */
export async function runLoad(options: LoadOptions): Promise<LoadFigure> {
  let next = 0;
  const paths = options.paths ?? [];
  const request: autocannon.Request = {
    method: options.method ?? 'GET',
    ...(paths.length === 0
      ? {}
      : {
          setupRequest: (req: autocannon.Request) => {
            const path = paths[next++ % paths.length];
            return { ...req, path };
          },
        }),
  };
  const base: autocannon.Options = {
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    connections: options.connections,
    requests: [request],
  };
  const result = await autocannon({ ...base, duration: options.seconds });
  return {
    perSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    seconds: result.duration,
    connections: options.connections,
  };
}

/**
 * A `+1` load at `url`: POSTs cycling through `paths` (score-adds) from `connections` clients,
 * run for as many seconds as each call asks (a warm-up, then the measured run).
 */
export function scoreAddLoad(
  url: string,
  paths: readonly string[],
  connections: number,
): (seconds: number) => Promise<LoadFigure> {
  return (seconds) =>
    runLoad({
      url,
      method: 'POST',
      headers: { Accept: 'application/json' },
      paths,
      connections,
      seconds,
    });
}
