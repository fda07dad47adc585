import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { MAX_MESSAGE_BYTES } from '../../contract/windows.ts';
import type { SeenPublish } from '../../local/publish-relay.ts';
import { type Stack, type StackOptions, startStack } from '../../local/stack.ts';

export type { Stack } from '../../local/stack.ts';

/**
 * local/stack.ts's `startStack` for one test file (call `stop()` in `afterAll`), with the
 * recording relay on the publish path so that every published message can be checked against
 * Fanout's cap (`publishedWithinCap`). With `STACK_LOGS=1` the services' lines are printed,
 * prefixed with their name (as well as handed to `options.onLine`).
 */
export function startTestStack(options: StackOptions = {}): Promise<Stack> {
  const echo =
    process.env.STACK_LOGS === '1'
      ? (service: string, line: string) => process.stdout.write(`[${service}] ${line}\n`)
      : undefined;
  const { onLine } = options;
  return startStack({
    relayPublishes: true,
    ...options,
    // A test that listens to the lines itself still gets them printed with STACK_LOGS=1.
    onLine:
      onLine === undefined || echo === undefined
        ? (onLine ?? echo)
        : (service, line) => {
            echo(service, line);
            onLine(service, line);
          },
  });
}

/** What the origin published through the stack's relay, measured against Fanout's 64 KiB cap. */
export interface PublishedSizes {
  /** Messages published (dropped on purpose or not). */
  count: number;
  /** The largest publish request body, in bytes. */
  largest: number;
  /** Messages whose request body was over `MAX_MESSAGE_BYTES`. */
  over: SeenPublish[];
  /** Messages Pushpin refused for what they were (a 4xx: 413 for a body over its cap). */
  refused: SeenPublish[];
}

/** Every message the stack's relay has seen so far, against the cap. */
export function publishedSizes(stack: Stack): PublishedSizes {
  if (stack.relay === undefined) throw new Error('this stack has no publish relay');
  const seen = stack.relay.seen;
  return {
    count: seen.length,
    largest: Math.max(0, ...seen.map((p) => p.bytes)),
    over: seen.filter((p) => p.bytes > MAX_MESSAGE_BYTES),
    refused: seen.filter((p) => p.status !== undefined && p.status >= 400 && p.status < 500),
  };
}

/** The answer of the origin to a request signed as the stack's Pushpin signs: headers and body. */
export interface SignedAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body's size in bytes. */
  bytes: number;
}

/**
 * Sends `path` straight to the origin with a `Grip-Sig` made with the stack's key, as Pushpin
 * would: the origin answers a stream's opening (or a recovery) in full and ends the response,
 * so a test sees exactly the body and GRIP headers that Pushpin, or Fanout, would be handed.
 */
export function askOriginAsProxy(
  stack: Stack,
  path: string,
  headers: Record<string, string> = {},
): Promise<SignedAnswer> {
  const url = new URL(path, stack.urls.origin);
  const sig = signHs256({ iss: 'pushpin', exp: Math.floor(Date.now() / 1000) + 60 }, stack.gripKey);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { Accept: 'text/event-stream', 'Grip-Sig': sig, ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: body.toString('utf8'),
            bytes: body.length,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function signHs256(claims: Record<string, unknown>, key: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}
