/** When one version was sent (the `+1` request) and published (reached Pushpin). */
export interface VersionTimes {
  version: number;
  sentAt: number;
  publishedAt: number;
}

/** What the pool asks a subscriber process to do. */
export type SubscriberCommand =
  | { type: 'open'; url: string; count: number; concurrency: number; addresses: string[] }
  | { type: 'mark' }
  | { type: 'progress'; version: number }
  | { type: 'report'; sent: VersionTimes[] }
  | { type: 'close' };

/** What a subscriber process answers. */
export type SubscriberReply =
  | { type: 'ready' }
  | {
      type: 'opened';
      open: number;
      /** Subscribers that could not open at all. */
      failed: number;
      /** Attempts refused (then retried). */
      refused: number;
      firstError: string | undefined;
    }
  | { type: 'marked' }
  | { type: 'progress'; reached: number; open: number }
  | {
      type: 'report';
      /** Subscribers open at the mark. */
      measured: number;
      /** Of those, how many reached the last version, never going back on a channel, and are still open. */
      complete: number;
      dropped: number;
      /** Board events received since the mark, by all of them together. */
      updates: number;
      publishToReceive: number[];
      sentToReceive: number[];
    }
  | { type: 'closed' };
