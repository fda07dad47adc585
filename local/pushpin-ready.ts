import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { describeExit, formatLogs, type Service, ServiceError } from './processes.ts';

// Pushpin is four programs joined by ZeroMQ, which retries a failed connect every 100 ms. Its two
// ports answering says little: right after they do, a held request can still get "500 Accept
// service unavailable" (the handler has not yet connected to the proxy), about 1 start in 6 here.
// So readiness is checked the way it is used: a stream held through the client port must receive
// a message published to it. Pushpin's log lines (printed at log_level 2 only) are not needed.

/** A tiny GRIP origin that holds every request it gets as a stream on channel `id`. */
export interface ProbeOrigin {
  /** The probe's route id (`Pushpin-Route: <id>`) and channel: random, so no client guesses it. */
  id: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a probe origin on a free loopback port. */
export async function startProbeOrigin(): Promise<ProbeOrigin> {
  const id = `ready-${randomBytes(12).toString('hex')}`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Grip-Hold': 'stream', 'Grip-Channel': id });
    res.end(HELD);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') {
    server.close();
    throw new ServiceError('The Pushpin readiness probe got no port.');
  }
  return {
    id,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ReadinessOptions {
  service: Service;
  /** Pushpin's client port, e.g. `http://127.0.0.1:7999/`. */
  url: string;
  /** Pushpin's publish endpoint, e.g. `http://127.0.0.1:5561/`. */
  publishUrl: string;
  probe: ProbeOrigin;
  timeoutMs: number;
  /** Said when Pushpin is not ready: where its config and logs are. */
  whereToLook: string;
}

const HELD = 'held\n';
const PUBLISHED = 'published\n';
// One try of a step; a try that waits longer than this is abandoned and made again.
const TRY_MS = 2_000;

/**
 * Resolves once Pushpin works end to end: its publish endpoint takes an empty publish, and a
 * request through its client port, held as a stream by the probe origin, receives a message
 * published to it (through condure, the proxy, zurl, the handler and back). Rejects with what
 * did not answer, and where to look, when that takes longer than `timeoutMs` or Pushpin exits.
 */
export async function waitForPushpin(options: ReadinessOptions): Promise<void> {
  const { url, publishUrl, probe, timeoutMs } = options;
  const publishEndpoint = new URL('publish/', publishUrl).href;
  const steps: Step[] = [
    {
      what: `POST ${publishEndpoint} (an empty publish) did not answer 200`,
      run: () => emptyPublish(publishEndpoint),
    },
    {
      what: `a stream held through ${url} (Pushpin-Route: ${probe.id}) did not receive a message published to it`,
      run: () => holdAndPublish(url, publishEndpoint, probe.id),
    },
  ];
  const deadline = Date.now() + timeoutMs;
  for (const step of steps) await untilDone(step, deadline, options);
}

interface Step {
  /** What is wrong while the step is not done. */
  what: string;
  /** One try: true when done, else what happened. */
  run(): Promise<true | string>;
}

// Tries a step every 100 ms until it is done; throws once the deadline passes or Pushpin exits.
async function untilDone(step: Step, deadline: number, options: ReadinessOptions): Promise<void> {
  const { service, timeoutMs, whereToLook } = options;
  const died = service.exited.then(() => 'exited' as const);
  for (;;) {
    const outcome = await Promise.race([step.run(), died]);
    if (outcome === true) return;
    const exit = service.exit();
    if (outcome === 'exited' || exit !== undefined) {
      const how = exit === undefined ? 'exited' : `exited (${describeExit(exit)})`;
      throw new ServiceError(
        `${service.name} (pid ${service.pid}) ${how} before it was ready: ${step.what}.\n${whereToLook}\n${formatLogs(service)}`,
      );
    }
    if (Date.now() >= deadline) {
      throw new ServiceError(
        `Pushpin was not ready within ${timeoutMs} ms: ${step.what} (last try: ${outcome}).\n${whereToLook}\n${formatLogs(service)}`,
      );
    }
    await sleep(100);
  }
}

// true when the publish endpoint takes `{"items":[]}`, else what it did.
async function emptyPublish(endpoint: string): Promise<true | string> {
  try {
    const response = await publish(endpoint, { items: [] }, AbortSignal.timeout(TRY_MS));
    if (response.status === 200) return true;
    return `answered ${response.status} ${JSON.stringify((await response.text()).trim())}`;
  } catch (error) {
    return describeFetchError(error);
  }
}

// true when a request held by the probe origin receives a published message, else what it got.
// Publishing repeats until the message arrives: the handler may subscribe a moment after it has
// sent the stream's first bytes.
async function holdAndPublish(url: string, endpoint: string, id: string): Promise<true | string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TRY_MS);
  let received = '';
  try {
    const response = await fetch(url, {
      headers: { 'Pushpin-Route': id },
      signal: controller.signal,
    });
    if (response.status !== 200 || response.body === null) {
      return `answered ${response.status} ${JSON.stringify((await response.text()).trim())}`;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let publishing: Promise<void> | undefined;
    while (!received.includes(PUBLISHED)) {
      const { value, done } = await reader.read();
      if (done) return `the held stream ended after ${JSON.stringify(received)}`;
      received += decoder.decode(value, { stream: true });
      if (publishing === undefined && received.startsWith(HELD)) {
        publishing = publishUntil(endpoint, id, controller.signal);
      }
    }
    return true;
  } catch (error) {
    if (!controller.signal.aborted) return describeFetchError(error);
    return received === ''
      ? `no answer within ${TRY_MS} ms`
      : `got ${JSON.stringify(received)}, then nothing within ${TRY_MS} ms`;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

async function publishUntil(endpoint: string, channel: string, signal: AbortSignal): Promise<void> {
  const item = { channel, formats: { 'http-stream': { content: PUBLISHED } } };
  while (!signal.aborted) {
    try {
      await (await publish(endpoint, { items: [item] }, signal)).body?.cancel();
    } catch {
      // Aborted, or the handler was not there yet: the next round tries again.
    }
    await sleep(100);
  }
}

function publish(endpoint: string, body: unknown, signal: AbortSignal): Promise<Response> {
  return fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

// fetch says "fetch failed"; the reason ("connect ECONNREFUSED ...", "other side closed") is its cause.
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
