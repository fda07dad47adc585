import { Channel, PublishException, Publisher, type PublisherOptions } from '@fanoutio/grip';
import type { IResponseGrip } from '@fanoutio/serve-grip';
import type { Request } from 'express';
import { type PublishFn, PublishTimeoutError } from './broadcaster.ts';

/**
 * Whether a request really came through our GRIP proxy: its `Grip-Sig` verifies against the
 * configured key and issuer. serve-grip 2.0.0 cannot be trusted for this: it checks signatures
 * with `Array.some` over an async function, so every non-empty `Grip-Sig` passes (the Promise is
 * truthy). We await the publisher's own check instead.
 */
export async function isFromGripProxy(publisher: Publisher, req: Request): Promise<boolean> {
  const header = req.get('grip-sig');
  if (header === undefined || header === '') return false;
  const result = await publisher.validateGripSig(header);
  // The library checks `exp` only when a token has one; Pushpin and Fanout always set it, so a
  // token without one did not come from them and would otherwise be valid forever.
  return result.isProxied && result.isSigned && hasExpiry(header);
}

function hasExpiry(token: string): boolean {
  try {
    const payload: unknown = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString(),
    );
    return (
      typeof payload === 'object' &&
      payload !== null &&
      typeof (payload as { exp?: unknown }).exp === 'number'
    );
  } catch {
    return false;
  }
}

export interface HoldOptions {
  /** Each channel with the id of its last message that the response body already accounts for. */
  channels: ReadonlyArray<{ channel: string; prevId: number }>;
  keepAliveSeconds: number;
  /** Where the proxy asks for what a stream missed (GRIP reliable streaming). */
  nextLink?: string;
}

/** Turns the response into a held GRIP stream on its channels. */
export function holdStream(grip: IResponseGrip, options: HoldOptions): void {
  const instruct = grip.startInstruct();
  for (const { channel, prevId } of options.channels) {
    instruct.addChannel(new Channel(channel, String(prevId)));
  }
  instruct.setHoldStream();
  // An SSE comment: ignored by EventSource, but keeps idle connections alive through proxies.
  instruct.setKeepAlive(':\n\n', options.keepAliveSeconds);
  if (options.nextLink !== undefined) instruct.setNextLink(options.nextLink);
}

/** Publishes SSE text through a GRIP publisher (Pushpin locally, Fanout in production). */
export function gripPublish(publisher: Publisher): PublishFn {
  return (channel, content, id, prevId) =>
    publisher.publishHttpStream(channel, content, id, prevId);
}

/**
 * The last id the proxy saw on each channel, from `Grip-Last: <channel>; last-id=<id>[, ...]`.
 * Ids that are not versions of ours are left out (as if unseen).
 */
export function gripLastIds(header: string | undefined): Map<string, number> {
  const ids = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim());
    if (name === undefined || name === '') continue;
    for (const p of params) {
      const match = /^last-id=(\d{1,15})$/.exec(p);
      if (match?.[1] !== undefined) ids.set(name, Number(match[1]));
    }
  }
  return ids;
}

/** What the origin's publisher is built from (see `Config`). */
export interface PublisherSettings {
  /** The publish endpoint's base, without credentials (`publish/` is appended). */
  gripUrl: string;
  /** Sent as `Authorization: Bearer <key>` with every publish; never put in the URL. */
  gripKey: string | undefined;
  verifyKey: string;
  verifyIss: string;
}

/**
 * The GRIP publisher: publishes to the proxy with the key as a bearer token, and verifies the
 * proxy's `Grip-Sig`. `fetch` is injected by tests.
 */
export function createPublisher(
  settings: PublisherSettings,
  fetch?: PublisherOptions['fetch'],
): Publisher {
  return new Publisher(
    {
      control_uri: settings.gripUrl,
      ...(settings.gripKey === undefined ? {} : { key: settings.gripKey }),
      verify_key: settings.verifyKey,
      verify_iss: settings.verifyIss,
    },
    fetch === undefined ? {} : { fetch },
  );
}

/**
 * Why a publish failed, as a short label: the proxy's HTTP status (`401`, `503`), `network` when
 * no answer came, `timeout` when it came too late, `error` for anything else.
 */
export function publishFailure(error: unknown): string {
  if (error instanceof PublishTimeoutError) return 'timeout';
  if (error instanceof PublishException) {
    const status = error.context.statusCode;
    return status > 0 ? String(status) : 'network';
  }
  return 'error';
}

/**
 * Whether the proxy refused a publish for what it carried (a 4xx other than the ones about
 * credentials, a missing service or a rate): sending the same message again cannot help.
 */
export function isPublishRefusal(error: unknown): boolean {
  if (!(error instanceof PublishException)) return false;
  const status = error.context.statusCode;
  return status >= 400 && status < 500 && ![401, 403, 404, 408, 429].includes(status);
}

/**
 * A failed publish in words for the log. js-grip's `PublishException` is not an `Error`; its
 * message is the proxy's answer body, JSON-quoted, and never holds the request or its token.
 */
export function publishErrorMessage(error: unknown): string {
  if (error instanceof PublishException) {
    const status = error.context.statusCode;
    const answer = error.message.slice(0, 200);
    return status > 0 ? `the proxy answered ${status}: ${answer}` : `no answer: ${answer}`;
  }
  return error instanceof Error ? error.message : String(error);
}
