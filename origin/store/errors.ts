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

  constructor(
    message: string,
    readonly code: 'storage_failed' | 'store_unavailable' = 'store_unavailable',
  ) {
    super(message);
  }
}
