import type { Publisher } from '@fanoutio/grip';
import { type NextFunction, type Request, type Response, Router } from 'express';
import type { z } from 'zod';
import { ID_PATTERN } from '../contract/board.ts';
import { boardChannel, encodeSse } from '../contract/events.ts';
import type { AdminAuth } from './auth.ts';
import type { Broadcaster } from './broadcaster.ts';
import type { Config } from './config.ts';
import type { BoardChange, Database, NewId } from './domain/board.ts';
import * as boards from './domain/board.ts';
import { boardNotFound, playerNotFound } from './domain/errors.ts';
import { holdStream, isFromGripProxy } from './grip.ts';
import { badRequest, HttpError, unauthorized } from './http/errors.ts';
import { clientKey, type RateLimiter } from './rate-limit.ts';
import * as schemas from './schemas.ts';
import type { Store } from './store/store.ts';

export interface RouteDeps {
  config: Config;
  store: Store;
  live: Broadcaster;
  publisher: Publisher;
  auth: AdminAuth;
  limiter: RateLimiter;
  newId: NewId;
  now: () => Date;
}

/** The board API. Every input is validated here, at the boundary, before anything changes. */
export function boardRoutes(deps: RouteDeps): Router {
  const { config, store, live, publisher, auth, limiter, newId, now } = deps;
  const router = Router({ strict: false });

  /** Applies one mutation, queues its publication, and resolves once it is on disk. */
  async function mutate<T>(
    apply: (db: Database) => { result: T; change?: BoardChange },
  ): Promise<T> {
    if (store.failed) {
      throw new HttpError(
        503,
        'storage_failed',
        'the data file cannot be written; the origin is stopping',
      );
    }
    const { result, change } = apply(store.data);
    if (change !== undefined) {
      store.touch(change.boardId, [...change.changed, ...change.removed]);
      live.record(change);
    }
    await store.commit();
    return result;
  }

  for (const param of ['boardId', 'playerId']) {
    router.param(param, (_req, _res, next, value: string) => {
      next(
        ID_PATTERN.test(value)
          ? undefined
          : param === 'boardId'
            ? boardNotFound()
            : playerNotFound(),
      );
    });
  }

  // Lets a client check an admin token without side effects (the web app's sign-in).
  router
    .route('/admin/')
    .get((req, res) => {
      auth.require(req);
      res.set('Cache-Control', 'no-store').json({ admin: true });
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/boards/')
    .get((_req, res) => {
      res.set('Cache-Control', 'no-cache').json({ boards: boards.listBoards(store.data) });
    })
    .post(async (req, res) => {
      auth.require(req);
      const body = parse(schemas.createBoardBody, bodyOf(req));
      const board = await mutate((db) => ({
        result: boards.createBoard(db, body, config, newId, now()),
      }));
      res.status(201).json(boards.boardView(board));
    })
    .all(methodNotAllowed('GET, POST'));

  router
    .route('/boards/:boardId/')
    .get(async (req, res) => {
      const query = parse(schemas.boardQuery, req.query, 'invalid_query');
      const board = boards.getBoard(store.data, param(req, 'boardId'));
      res.vary('Accept');
      if (!wantsStream(req)) {
        res
          .set('Cache-Control', 'no-cache')
          .json(boards.boardView(board, { limit: query.limit, around: query.around }));
        return;
      }
      if (!(await isFromGripProxy(publisher, req))) {
        throw new HttpError(
          406,
          'grip_proxy_required',
          'live streams are served through a GRIP proxy: open this board through Pushpin ' +
            '(npm start) or Fastly Fanout, not on the origin directly',
        );
      }
      // Look the board up again: it may have been deleted while the signature was checked.
      const current = boards.getBoard(store.data, board.id);
      const lastEventId = lastEventIdOf(req) ?? query.lastEventId;
      sendHeld(res, current, `retry: 2000\n\n${encodeCatchUp(current, lastEventId)}`);
    })
    .delete(async (req, res) => {
      auth.require(req);
      const boardId = param(req, 'boardId');
      await mutate((db) => ({ result: undefined, change: boards.deleteBoard(db, boardId) }));
      res.status(204).end();
    })
    .all(methodNotAllowed('GET, DELETE'));

  // GRIP reliable streaming: when the proxy sees a gap in a channel's prev-id chain (or a stream
  // has been idle for a while) it asks here, with `Grip-Last: board-<id>; last-id=<version>`, for
  // what the stream missed. The body is appended to the client's stream; the headers renew the hold.
  router
    .route('/boards/:boardId/recover/')
    .get(async (req, res) => {
      if (!(await isFromGripProxy(publisher, req))) {
        throw new HttpError(403, 'grip_proxy_required', 'only the GRIP proxy may recover streams');
      }
      const boardId = param(req, 'boardId');
      const last = gripLastId(req.get('grip-last'), boardChannel(boardId));
      const board = Object.hasOwn(store.data.boards, boardId)
        ? store.data.boards[boardId]
        : undefined;
      if (board === undefined) {
        // The board is gone: tell the client and let the stream end (no hold, no next link).
        res
          .type('text/event-stream')
          .send(encodeSse({ type: 'deleted', version: (last ?? 0) + 1 }));
        return;
      }
      sendHeld(res, board, encodeCatchUp(board, last));
    })
    .all(methodNotAllowed('GET'));

  function encodeCatchUp(board: boards.BoardRecord, after: number | undefined): string {
    const event = live.catchUp(board, after);
    return event === undefined ? '' : encodeSse(event);
  }

  function sendHeld(res: Response, board: boards.BoardRecord, body: string): void {
    if (res.grip === undefined) throw new HttpError(500, 'grip_unavailable', 'GRIP is not set up');
    holdStream(res.grip, {
      channel: boardChannel(board.id),
      prevId: String(live.publishedVersion(board)),
      keepAliveSeconds: config.keepAliveSeconds,
      nextLink: `/boards/${board.id}/recover/`,
    });
    res.status(200).type('text/event-stream').set('Cache-Control', 'no-store').send(body);
  }

  router
    .route('/boards/:boardId/players/')
    .post(async (req, res) => {
      auth.require(req);
      const body = parse(schemas.createPlayerBody, bodyOf(req));
      const boardId = param(req, 'boardId');
      const player = await mutate((db) => {
        const { player, change } = boards.addPlayer(db, boardId, body.name, config, newId);
        return { result: player, change };
      });
      res.status(201).json(player);
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/boards/:boardId/players/:playerId/')
    .get((req, res) => {
      const board = boards.getBoard(store.data, param(req, 'boardId'));
      res.set('Cache-Control', 'no-cache').json(boards.playerView(board, param(req, 'playerId')));
    })
    .patch(async (req, res) => {
      auth.require(req);
      const body = parse(schemas.updatePlayerBody, bodyOf(req));
      const player = await mutate((db) => {
        const { player, change } = boards.updatePlayer(
          db,
          param(req, 'boardId'),
          param(req, 'playerId'),
          body,
        );
        return { result: player, change };
      });
      res.json(player);
    })
    .delete(async (req, res) => {
      auth.require(req);
      await mutate((db) => ({
        result: undefined,
        change: boards.removePlayer(db, param(req, 'boardId'), param(req, 'playerId')),
      }));
      res.status(204).end();
    })
    .all(methodNotAllowed('GET, PATCH, DELETE'));

  router
    .route('/boards/:boardId/players/:playerId/score-add/')
    .post(async (req, res) => {
      const admin = auth.isAdmin(req);
      const raw = bodyOf(req);
      const { amount } = parse(schemas.scoreAddBody, raw ?? {});
      if (amount !== 1 && !admin) {
        throw unauthorized('only +1 is public; another amount needs the admin token');
      }
      const boardId = param(req, 'boardId');
      const playerId = param(req, 'playerId');
      boards.assertPlayer(store.data, boardId, playerId);
      if (!admin) {
        const verdict = limiter.take(clientKey(req.ip));
        if (!verdict.allowed) {
          throw new HttpError(429, 'rate_limited', 'too many +1s from this address; slow down', {
            'Retry-After': String(verdict.retryAfterSeconds),
          });
        }
      }
      const player = await mutate((db) => {
        const { player, change } = boards.addScore(db, boardId, playerId, amount);
        return { result: player, change };
      });
      res.json(player);
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/boards/:boardId/reset/')
    .post(async (req, res) => {
      auth.require(req);
      const boardId = param(req, 'boardId');
      if (bodyOf(req) !== undefined) parse(schemas.emptyBody, bodyOf(req));
      const board = await mutate((db) => ({
        change: boards.resetBoard(db, boardId),
        result: boards.getBoard(db, boardId),
      }));
      res.json(boards.boardView(board));
    })
    .all(methodNotAllowed('POST'));

  return router;
}

function wantsStream(req: Request): boolean {
  return (req.get('accept') ?? '').toLowerCase().includes('text/event-stream');
}

function lastEventIdOf(req: Request): number | undefined {
  const header = req.get('last-event-id');
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

/** The last id the proxy saw on one channel, from `Grip-Last: <channel>; last-id=<id>[, ...]`. */
export function gripLastId(header: string | undefined, channel: string): number | undefined {
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim());
    if (name !== channel) continue;
    for (const p of params) {
      const match = /^last-id=(\d{1,15})$/.exec(p);
      if (match?.[1] !== undefined) return Number(match[1]);
    }
  }
  return undefined;
}

function param(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string') throw badRequest('invalid_path', `missing ${name}`);
  return value;
}

/** The parsed JSON body, or undefined when the request had none. */
function bodyOf(req: Request): unknown {
  return req.body;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, code = 'invalid_body'): z.output<S> {
  if (value === undefined && code === 'invalid_body') {
    throw badRequest(code, 'expected a JSON body (Content-Type: application/json)');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const detail = result.error.issues
      .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
      .join('; ');
    throw badRequest(code, detail);
  }
  return result.data;
}

function methodNotAllowed(allow: string) {
  return (req: Request, _res: Response, next: NextFunction) => {
    next(
      new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${allow}`, {
        Allow: allow,
      }),
    );
  };
}
