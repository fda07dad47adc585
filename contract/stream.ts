/** The media type of a board's live stream. */
export const EVENT_STREAM = 'text/event-stream';

/**
 * Whether an `Accept` header asks for `text/event-stream` (any case, parameters allowed, q > 0).
 * Wildcards do not count: EventSource always names the type, and `*\/*` is what plain fetches send.
 * The edge and the origin both decide with this, so a request streams at both or at neither.
 */
export function acceptsEventStream(accept: string | null | undefined): boolean {
  if (accept === null || accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== EVENT_STREAM) return false;
    const q = params.find((param) => param.startsWith('q='));
    if (q === undefined) return true;
    const weight = Number(q.slice(2));
    return Number.isNaN(weight) || weight > 0;
  });
}
