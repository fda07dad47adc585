import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';

/** One dispatched Server-Sent Event. */
export interface SseEvent {
  /** The `event:` field; `message` when there was none. */
  event: string;
  /** The last event ID when this event was dispatched (`id:` persists across events). */
  id: string | undefined;
  data: string;
}

/** How a stream ended. */
export interface SseDisconnect {
  /** True when `close()` ended it; false when the server or the network did. */
  byClient: boolean;
  error?: string;
}

export interface SseOptions {
  /** Sent as `Last-Event-ID`, to resume. */
  lastEventId?: string;
  headers?: Record<string, string>;
  /** How long to wait for the response headers. */
  timeoutMs?: number;
}

/**
 * Incremental `text/event-stream` parser, as the HTML standard defines it: lines end in CRLF, LF
 * or CR; a blank line dispatches; `data:` lines join with LF; comments and `retry:` are skipped.
 */
export class SseParser {
  private buffer = '';
  private pendingCr = false;
  private eventType = '';
  private data: string[] = [];
  private lastId: string | undefined;

  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let input = text;
    if (input === '') return events;
    // A CR at the end of the previous chunk may be the first half of a CRLF.
    if (this.pendingCr && input.startsWith('\n')) input = input.slice(1);
    this.pendingCr = false;
    this.buffer += input;
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      if (end < 0) break;
      const crlf = this.buffer.startsWith('\r\n', end);
      if (this.buffer[end] === '\r' && end === this.buffer.length - 1) this.pendingCr = true;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (crlf ? 2 : 1));
      const event = this.line(line);
      if (event !== undefined) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      const data = this.data;
      const event = this.eventType === '' ? 'message' : this.eventType;
      this.data = [];
      this.eventType = '';
      if (data.length === 0) return undefined;
      return { event, id: this.lastId, data: data.join('\n') };
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return undefined;
  }
}

/** A live SSE connection that records what arrives, in order. */
export class SseClient {
  /** Every event received so far, oldest first. */
  readonly events: SseEvent[] = [];
  /**
   * For each event, the bytes received up to the end of the chunk it was completed in: a bound
   * from above on the bytes up to that event (`bytesUpTo`).
   */
  private readonly offsets: number[] = [];
  /** For each event, when it arrived (`Date.now()` as its chunk was read). */
  readonly receivedAt: number[] = [];
  /** Bytes of the response body received so far. */
  bytes = 0;
  /** Settles when the stream ends, whoever ended it. */
  readonly ended: Promise<SseDisconnect>;
  private disconnect: SseDisconnect | undefined;
  private readonly listeners = new Set<() => void>();
  private closing = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly response: IncomingMessage,
    private readonly parser: SseParser,
  ) {
    this.ended = new Promise((resolve) => {
      const finish = (error?: Error) => {
        if (this.disconnect !== undefined) return;
        this.disconnect = {
          byClient: this.closing,
          ...(error && !this.closing ? { error: error.message } : {}),
        };
        this.notify();
        resolve(this.disconnect);
      };
      response.on('end', () => finish());
      response.on('error', finish);
      response.on('close', () => finish());
    });
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.bytes += Buffer.byteLength(chunk);
      const events = this.parser.push(chunk);
      if (events.length === 0) return;
      this.events.push(...events);
      this.offsets.push(...events.map(() => this.bytes));
      const now = Date.now();
      this.receivedAt.push(...events.map(() => now));
      this.notify();
    });
  }

  /** The ID to resume from: the last `id:` the server sent. */
  get lastEventId(): string | undefined {
    return this.parser.lastEventId;
  }

  /** How the stream ended, or undefined while it is open. */
  get disconnected(): SseDisconnect | undefined {
    return this.disconnect;
  }

  /** The first event so far, or to come, that matches. */
  waitFor(predicate: (event: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    return this.waitFrom(0, predicate, timeoutMs);
  }

  /** The first matching event that arrives after this call. */
  waitForNext(predicate: (event: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    return this.waitFrom(this.events.length, predicate, timeoutMs);
  }

  /**
   * The body's bytes up to and including event `index` (at most: counted by chunk, so the bytes
   * of what arrived in the same chunk after it are counted too).
   */
  bytesUpTo(index: number): number {
    return this.offsets[index] ?? this.bytes;
  }

  /** Calls `listener` whenever events arrive or the stream ends; returns how to stop. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends the connection from this side. */
  close(): void {
    this.closing = true;
    this.response.destroy();
  }

  private waitFrom(
    from: number,
    predicate: (event: SseEvent) => boolean,
    timeoutMs: number,
  ): Promise<SseEvent> {
    return new Promise((resolve, reject) => {
      let checked = from;
      const check = () => {
        for (; checked < this.events.length; checked++) {
          const event = this.events[checked];
          if (event !== undefined && predicate(event)) {
            done();
            resolve(event);
            return;
          }
        }
        if (this.disconnect !== undefined) {
          done();
          reject(
            new Error(
              `${this.url}: stream ended (${describeDisconnect(this.disconnect)}) first.\n${this.received()}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`${this.url}: no matching event within ${timeoutMs} ms.\n${this.received()}`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** What arrived so far, for error messages. */
  received(): string {
    if (this.events.length === 0) return 'Received no events.';
    const lines = this.events.map((e, i) => {
      const data = e.data.length > 300 ? `${e.data.slice(0, 300)}…` : e.data;
      return `  ${i}: event=${e.event} id=${e.id ?? '-'} data=${data}`;
    });
    return `Received ${this.events.length} events:\n${lines.join('\n')}`;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/**
 * Opens an SSE stream with node:http (no EventSource: tests see every byte and reconnect
 * themselves). Resolves once a 200 `text/event-stream` response has started; rejects with the
 * status and body otherwise.
 */
export function openSse(url: string, options: SseOptions = {}): Promise<SseClient> {
  const headers: Record<string, string> = {
    Accept: 'text/event-stream',
    'Cache-Control': 'no-cache',
    ...options.headers,
  };
  if (options.lastEventId !== undefined) headers['Last-Event-ID'] = options.lastEventId;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (response) => {
      clearTimeout(timer);
      const type = response.headers['content-type'] ?? '';
      if (response.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < 2_000) body += chunk;
        });
        const fail = () =>
          reject(
            new Error(
              `${url}: expected a 200 event stream, got ${response.statusCode} ${type}: ${body}`,
            ),
          );
        response.on('end', fail);
        response.on('error', fail);
        return;
      }
      resolve(new SseClient(url, response.statusCode, response.headers, response, new SseParser()));
    });
    const timer = setTimeout(() => {
      req.destroy(
        new Error(`${url}: no response headers within ${options.timeoutMs ?? 10_000} ms`),
      );
    }, options.timeoutMs ?? 10_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** An event's data, parsed as JSON. */
export function dataOf<T = unknown>(event: SseEvent): T {
  return JSON.parse(event.data) as T;
}

function describeDisconnect(disconnect: SseDisconnect): string {
  if (disconnect.byClient) return 'closed by the test';
  return disconnect.error === undefined ? 'closed by the server' : `error: ${disconnect.error}`;
}
