import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { preciseNow } from '../local/publish-relay.ts';
import type { SubscriberCommand, SubscriberReply, VersionTimes } from './subscriber-protocol.ts';

// A load process that holds many SSE subscribers with bare node:http (no per-connection client
// object beyond a few fields) and notes when each board event arrives. The parent
// (subscriber-pool.ts) drives it over IPC; several run side by side so that reading thousands of
// sockets is not done on the measuring process's one thread.

interface Subscriber {
  /** The newest board version this subscriber has heard of (its highest event id). */
  version: number;
  /** The version it had when the current measurement started. */
  markedVersion: number;
  /**
   * Events since the mark, flattened: version, channel (the page, or -1 for the board's own
   * channel), arrival time.
   */
  events: number[];
  buffer: string;
  ended: boolean;
  request: ClientRequest;
  response: IncomingMessage | undefined;
}

const subscribers: Subscriber[] = [];

function send(reply: SubscriberReply): void {
  process.send?.(reply);
}

function open(url: string, localAddress: string | undefined): Promise<Subscriber | string> {
  return new Promise((resolve) => {
    const req = request(url, {
      agent: false,
      headers: { Accept: 'text/event-stream', 'Cache-Control': 'no-cache' },
      ...(localAddress === undefined ? {} : { localAddress }),
    });
    const subscriber: Subscriber = {
      version: -1,
      markedVersion: -1,
      events: [],
      buffer: '',
      ended: false,
      request: req,
      response: undefined,
    };
    const timer = setTimeout(() => req.destroy(new Error('no response within 30 s')), 30_000);
    req.on('response', (res) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        res.resume();
        resolve(`status ${res.statusCode}`);
        return;
      }
      subscriber.response = res;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => receive(subscriber, chunk, preciseNow()));
      const end = () => {
        subscriber.ended = true;
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve(subscriber);
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      subscriber.ended = true;
      resolve(error.message);
    });
    req.end();
  });
}

// Pushpin and the origin frame events with LF only; an event ends at a blank line. A `page`
// event is on its page's channel; `board`, `reload` and `deleted` are on the board's own.
function receive(subscriber: Subscriber, chunk: string, at: number): void {
  subscriber.buffer += chunk;
  for (;;) {
    const end = subscriber.buffer.indexOf('\n\n');
    if (end < 0) return;
    const block = subscriber.buffer.slice(0, end);
    subscriber.buffer = subscriber.buffer.slice(end + 2);
    const type = /^event: (\w+)$/m.exec(block)?.[1];
    if (type !== 'page' && type !== 'board' && type !== 'reload' && type !== 'deleted') continue;
    const version = Number(/^id: (\d+)$/m.exec(block)?.[1] ?? Number.NaN);
    const channel = type === 'page' ? Number(/"page":(\d+)/.exec(block)?.[1] ?? Number.NaN) : -1;
    subscriber.events.push(version, channel, at);
    if (version > subscriber.version) subscriber.version = version;
  }
}

// Pushpin 1.36 on a busy machine refuses some subscribes in a connection storm (502 when the
// origin request fails inside it, 500 "Accept service unavailable" when its handler is late).
// Browsers come back; so do these, a little later, and the refusals are counted.
const ATTEMPTS = 10;

async function openMany(
  url: string,
  count: number,
  concurrency: number,
  addresses: readonly string[],
): Promise<SubscriberReply> {
  let started = 0;
  let failed = 0;
  let refused = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (started < count) {
      const index = started++;
      for (let attempt = 1; ; attempt++) {
        const result = await open(url, addresses[index % addresses.length]);
        if (typeof result !== 'string') {
          subscribers.push(result);
          break;
        }
        refused++;
        firstError ??= result;
        if (attempt === ATTEMPTS) {
          failed++;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { type: 'opened', open: openCount(), failed, refused, firstError };
}

const openCount = () => subscribers.filter((s) => !s.ended).length;

function mark(): void {
  for (const subscriber of subscribers) {
    subscriber.markedVersion = subscriber.version;
    subscriber.events = [];
  }
}

/**
 * Latencies of every subscriber that was open at the mark, for every version sent since: the
 * first event at or past a version counts as its delivery (a page published once stands for
 * every change it coalesced).
 */
function report(sent: readonly VersionTimes[]): SubscriberReply {
  const publishToReceive: number[] = [];
  const sentToReceive: number[] = [];
  let measured = 0;
  let complete = 0;
  let dropped = 0;
  let updates = 0;
  const last = sent.reduce((max, v) => Math.max(max, v.version), -1);
  for (const subscriber of subscribers) {
    if (subscriber.markedVersion < 0) continue;
    measured++;
    if (subscriber.ended) dropped++;
    updates += subscriber.events.length / 3;
    const { ordered, reached } = chainOf(subscriber.events, subscriber.markedVersion);
    if (ordered && reached >= last && !subscriber.ended) complete++;
    for (const version of sent) {
      const at = deliveredAt(subscriber.events, version.version);
      if (at === undefined) continue;
      publishToReceive.push(round(at - version.publishedAt));
      sentToReceive.push(round(at - version.sentAt));
    }
  }
  return { type: 'report', measured, complete, dropped, updates, publishToReceive, sentToReceive };
}

// Whether the events (version, channel, time triples) never go back on any one channel (an id
// heard twice is an opening body and a publish racing, not a step back), and the version they
// reach.
function chainOf(events: readonly number[], from: number): { ordered: boolean; reached: number } {
  const lastOnChannel = new Map<number, number>();
  let reached = from;
  let ordered = true;
  for (let i = 0; i < events.length; i += 3) {
    const version = events[i] as number;
    const channel = events[i + 1] as number;
    const previous = lastOnChannel.get(channel);
    if (previous !== undefined && version < previous) ordered = false;
    lastOnChannel.set(channel, version);
    reached = Math.max(reached, version);
  }
  return { ordered, reached };
}

// When the first event at or past `version` arrived, if one did.
function deliveredAt(events: readonly number[], version: number): number | undefined {
  for (let i = 0; i < events.length; i += 3) {
    if ((events[i] as number) >= version) return events[i + 2] as number;
  }
  return undefined;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function closeAll(): void {
  for (const subscriber of subscribers) {
    subscriber.ended = true;
    subscriber.request.destroy();
  }
  subscribers.length = 0;
}

process.on('message', async (command: SubscriberCommand) => {
  switch (command.type) {
    case 'open':
      send(await openMany(command.url, command.count, command.concurrency, command.addresses));
      return;
    case 'mark':
      mark();
      send({ type: 'marked' });
      return;
    case 'progress':
      send({
        type: 'progress',
        reached: subscribers.filter((s) => !s.ended && s.version >= command.version).length,
        open: openCount(),
      });
      return;
    case 'report':
      send(report(command.sent));
      return;
    case 'close':
      closeAll();
      send({ type: 'closed' });
      return;
  }
});
process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});
send({ type: 'ready' });
