/**
 * Why the board rules refuse something, in the domain's own words. The HTTP layer maps each kind
 * to a status and a wire code in one place (`http/errors.ts`).
 */
export type BoardErrorKind =
  | 'board_not_found'
  | 'player_not_found'
  | 'name_taken'
  | 'limit_reached'
  | 'score_out_of_range'
  | 'id_exhausted'
  | 'invalid_backup';

/** A change or read the board rules refuse. Thrown before anything has changed. */
export class BoardError extends Error {
  override name = 'BoardError';

  constructor(
    readonly kind: BoardErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const boardNotFound = () => new BoardError('board_not_found', 'board not found');
export const playerNotFound = () => new BoardError('player_not_found', 'player not found');
