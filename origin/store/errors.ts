/**
 * The store cannot take reads or writes now, answered with 503:
 *
 * - `storage_failed`: the embedded store's data file could not be written; memory may be ahead of
 *   the disk, so the origin serves nothing more and stops (a restart reloads what the disk holds);
 * - `store_unavailable`: Redis is out of reach, or did not confirm a write on as many replicas as
 *   asked; the origin recovers by itself once Redis answers again.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';

  readonly code: 'storage_failed' | 'store_unavailable';

  constructor(
    message: string,
    options: { code?: 'storage_failed' | 'store_unavailable'; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'store_unavailable';
  }
}
