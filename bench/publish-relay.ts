import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One publish seen on its way from the origin to Pushpin. */
export interface SeenPublish {
  channel: string;
  id: number;
  /** When its request reached the relay (ms, same clock as `preciseNow`). */
  at: number;
}

/** A counting relay between the origin (`GRIP_URL`) and Pushpin's publish endpoint. */
export interface PublishRelay {
  url: string;
  /** Where publishes go on to; set once Pushpin's port is known. */
  target: string;
  /** Every publish forwarded so far, oldest first. */
  readonly seen: SeenPublish[];
  /** Publishes that Pushpin refused or that could not be forwarded. */
  failed: number;
  close(): Promise<void>;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Starts a relay on a free loopback port. It times each publish when it arrives (the moment the
 * origin hands it over) and forwards it unchanged, answering the origin with Pushpin's answer, so
 * delivery guarantees are Pushpin's own.
 */
export async function startPublishRelay(): Promise<PublishRelay> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const relay: PublishRelay = {
    url: '',
    target: '',
    seen: [],
    failed: 0,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const at = preciseNow();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      for (const item of itemsOf(body)) relay.seen.push({ ...item, at });
      const upstream = request(
        new URL(req.url ?? '/', relay.target),
        {
          method: req.method,
          agent,
          headers: {
            'Content-Type': req.headers['content-type'] ?? 'application/json',
            'Content-Length': body.length,
            ...(req.headers.authorization ? { Authorization: req.headers.authorization } : {}),
          },
        },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
          answer.on('end', () => {
            if ((answer.statusCode ?? 500) >= 300) relay.failed++;
            res.writeHead(answer.statusCode ?? 502).end(Buffer.concat(answerChunks));
          });
        },
      );
      upstream.on('error', (error) => {
        relay.failed++;
        res.writeHead(502).end(error.message);
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  relay.close = () =>
    new Promise<void>((resolve) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return relay;
}

function itemsOf(body: Buffer): { channel: string; id: number }[] {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { items?: unknown };
    if (!Array.isArray(parsed.items)) return [];
    return parsed.items.flatMap((item: { channel?: unknown; id?: unknown }) =>
      typeof item.channel === 'string' ? [{ channel: item.channel, id: Number(item.id) }] : [],
    );
  } catch {
    return [];
  }
}

/** How many publishes of `channel` fell in [from, to): in total and in the busiest whole second. */
export function countPublishes(
  seen: readonly SeenPublish[],
  channel: string,
  from: number,
  to: number,
): { count: number; maxInOneSecond: number } {
  const perSecond = new Map<number, number>();
  let count = 0;
  for (const publish of seen) {
    if (publish.channel !== channel || publish.at < from || publish.at >= to) continue;
    count++;
    const second = Math.floor((publish.at - from) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  return { count, maxInOneSecond: Math.max(0, ...perSecond.values()) };
}
