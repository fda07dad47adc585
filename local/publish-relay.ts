import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One published message seen on its way from the origin to Pushpin's publish endpoint. */
export interface SeenPublish {
  channel: string;
  /** The message's GRIP `id` (NaN when it had none). */
  id: number;
  /** The message's GRIP `prev-id`, when it had one. */
  prevId: number | undefined;
  /** The SSE text the message carries (its `http-stream` content), in UTF-8 bytes. */
  contentBytes: number;
  /**
   * The whole publish request body, in bytes: what Pushpin's `push_in_http_max_body_size` and
   * Fanout's 64 KiB cap are counted against.
   */
  bytes: number;
  /** When its request reached the relay (ms, same clock as `preciseNow`). */
  at: number;
  /** Dropped on purpose (see `PublishRelay.drop`): answered 200, never forwarded. */
  dropped: boolean;
  /** Pushpin's answer; 0 when it could not be reached; undefined until it answers. */
  status: number | undefined;
}

/** A recording relay between the origin (`GRIP_URL`) and Pushpin's publish endpoint. */
export interface PublishRelay {
  url: string;
  /** Where publishes go on to: Pushpin's publish endpoint. */
  target: string;
  /** Every message published so far, oldest first. */
  readonly seen: SeenPublish[];
  /** Publishes that Pushpin refused or that could not be forwarded. */
  failed: number;
  /**
   * Loses publishes on purpose: a request any of whose messages this accepts is answered 200 and
   * not forwarded, as if it had been lost between Pushpin accepting it and delivering it.
   */
  drop: ((publish: SeenPublish) => boolean) | undefined;
  close(): Promise<void>;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Starts a relay on a free loopback port that forwards every publish to `target` unchanged and
 * answers the origin with Pushpin's answer, so delivery guarantees are Pushpin's own. It notes
 * each message's channel, ids and size, and when it arrived (the moment the origin handed it
 * over): tests check every message against Fanout's size cap, the bench times deliveries from it.
 */
export async function startPublishRelay(target = ''): Promise<PublishRelay> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const relay: PublishRelay = {
    url: '',
    target,
    seen: [],
    failed: 0,
    drop: undefined,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const at = preciseNow();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const items = itemsOf(body).map(
        (item): SeenPublish => ({
          ...item,
          bytes: body.length,
          at,
          dropped: false,
          status: undefined,
        }),
      );
      relay.seen.push(...items);
      const answered = (status: number) => {
        for (const item of items) item.status = status;
        if (status === 0 || status >= 300) relay.failed++;
      };
      const { drop } = relay;
      if (drop !== undefined && items.some((item) => drop(item))) {
        for (const item of items) item.dropped = true;
        res.writeHead(200).end('Published\n');
        return;
      }
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
            answered(answer.statusCode ?? 0);
            res.writeHead(answer.statusCode ?? 502).end(Buffer.concat(answerChunks));
          });
        },
      );
      upstream.on('error', (error) => {
        answered(0);
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

type Item = Pick<SeenPublish, 'channel' | 'id' | 'prevId' | 'contentBytes'>;

// A GRIP publish body: `{ items: [{ channel, id, 'prev-id', formats: { 'http-stream': { content } } }] }`.
function itemsOf(body: Buffer): Item[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return [];
  }
  const items = (parsed as { items?: unknown }).items;
  if (!Array.isArray(items)) return [];
  return items.flatMap((item: Record<string, unknown>): Item[] => {
    if (typeof item.channel !== 'string') return [];
    const prevId = item['prev-id'];
    const formats = item.formats as { 'http-stream'?: { content?: unknown } } | undefined;
    const content = formats?.['http-stream']?.content;
    return [
      {
        channel: item.channel,
        id: Number(item.id),
        prevId: prevId === undefined ? undefined : Number(prevId),
        contentBytes: typeof content === 'string' ? Buffer.byteLength(content) : 0,
      },
    ];
  });
}
