import { describe, expect, it } from 'vitest';
import { BoardError, type BoardErrorKind } from '../domain/errors.ts';
import { HttpError, toHttpError, unauthorized } from './errors.ts';

describe('toHttpError', () => {
  it.each<[BoardErrorKind, number, string]>([
    ['board_not_found', 404, 'not_found'],
    ['player_not_found', 404, 'not_found'],
    ['name_taken', 409, 'name_taken'],
    ['limit_reached', 409, 'limit_reached'],
    ['score_out_of_range', 409, 'score_out_of_range'],
    ['id_exhausted', 500, 'id_exhausted'],
    ['invalid_backup', 400, 'invalid_backup'],
  ])('maps the domain refusal %s to %i %s, keeping its message', (kind, status, code) => {
    const error = toHttpError(new BoardError(kind, 'what happened'));
    expect(error).toMatchObject({ status, code, message: 'what happened' });
  });

  it('passes an HttpError through as it is', () => {
    const error = unauthorized('needs the token');
    expect(toHttpError(error)).toBe(error);
    expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="leaderboard"' });
  });

  it('answers anything else with a generic 500 that says nothing of it', () => {
    expect(toHttpError(new Error('/secret/path: EACCES'))).toEqual(
      new HttpError(500, 'internal', 'something went wrong on the server'),
    );
    expect(toHttpError(undefined)).toMatchObject({ status: 500, code: 'internal' });
  });
});
