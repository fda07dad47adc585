import type { Router } from 'express';
import type { BoardList } from '../../contract/board.ts';
import { routePatterns } from '../../contract/paths.ts';
import {
  boardQuery,
  createBoardBody,
  DEFAULT_LIMIT,
  emptyBody,
  updateBoardBody,
} from '../../contract/requests.ts';
import { ADMIN_CREATED, ADMIN_EMPTY, ADMIN_OK, ADMIN_OK_AFTER, idempotent } from './idempotency.ts';
import {
  type ApiDeps,
  apiRouter,
  methodNotAllowed,
  param,
  parseBody,
  parseQuery,
} from './routing.ts';
import { boardStream } from './streams.ts';

/** The boards: list, create, read (as JSON or as a live stream), delete, reset. */
export function boardRoutes(
  deps: Pick<ApiDeps, 'service' | 'auth' | 'publisher' | 'keepAliveSeconds' | 'metrics'>,
): Router {
  const { service, auth } = deps;
  const router = apiRouter();

  router
    .route(routePatterns.boards)
    .get(async (_req, res) => {
      const list: BoardList = { boards: await service.listBoards() };
      res.set('Cache-Control', 'no-cache').json(list);
    })
    .post(async (req, res) => {
      auth.require(req);
      const input = parseBody(req, createBoardBody);
      await idempotent(service, req, res, ADMIN_CREATED, () => service.createBoard(input));
    })
    .all(methodNotAllowed('GET, POST'));

  router
    .route(routePatterns.board)
    // The stream is this route's first handler rather than a router of its own: a second router
    // on this path would answer OPTIONS itself (Express's automatic Allow) instead of the 405.
    .get(boardStream(deps), async (req, res) => {
      const { limit, from, around, v } = parseQuery(req, boardQuery);
      const boardId = param(req, 'boardId');
      await service.requireBoard(boardId);
      res.vary('Accept');
      // A reload after a `reload` event names the version it reloads for (`v`): a crowd asks for
      // the same few URLs at once, so an edge cache may answer them for a moment. Anything newer
      // reaches those viewers on their streams. Without `v`, every read goes to the origin.
      const cache = v === undefined ? 'no-cache' : 'public, max-age=0, s-maxage=5';
      const view = await service.viewBoard(boardId, {
        limit: limit ?? DEFAULT_LIMIT,
        from,
        around,
      });
      res.set('Cache-Control', cache).json(view);
    })
    .patch(async (req, res) => {
      auth.require(req);
      const { schedule } = parseBody(req, updateBoardBody);
      const boardId = param(req, 'boardId');
      await idempotent(service, req, res, ADMIN_OK_AFTER, () =>
        service.setSchedule(boardId, schedule),
      );
    })
    .delete(async (req, res) => {
      auth.require(req);
      const boardId = param(req, 'boardId');
      await idempotent(service, req, res, ADMIN_EMPTY, () => service.deleteBoard(boardId));
    })
    .all(methodNotAllowed('GET, PATCH, DELETE'));

  router
    .route(routePatterns.reset)
    .post(async (req, res) => {
      auth.require(req);
      parseBody(req, emptyBody, {});
      const boardId = param(req, 'boardId');
      await idempotent(service, req, res, ADMIN_OK, () => service.resetBoard(boardId));
    })
    .all(methodNotAllowed('POST'));

  return router;
}
