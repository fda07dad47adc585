import type { Request, Router } from 'express';
import type { PlayerList } from '../../contract/board.ts';
import { routePatterns } from '../../contract/paths.ts';
import {
  createPlayerBody,
  playerSearchQuery,
  scoreAddBody,
  updatePlayerBody,
} from '../../contract/requests.ts';
import type { Metrics } from '../metrics.ts';
import { clientKey, type RateLimiter } from '../rate-limit.ts';
import { HttpError, unauthorized } from './errors.ts';
import { ADMIN_CREATED, ADMIN_EMPTY, ADMIN_OK, idempotent } from './idempotency.ts';
import {
  type ApiDeps,
  apiRouter,
  methodNotAllowed,
  param,
  parseBody,
  parseQuery,
} from './routing.ts';

/** The players of a board: add, read, change, remove, and the score-add (`+1` is public). */
export function playerRoutes({
  service,
  auth,
  limiter,
  metrics,
}: Pick<ApiDeps, 'service' | 'auth' | 'limiter' | 'metrics'>): Router {
  const router = apiRouter();

  router
    .route(routePatterns.players)
    .get(async (req, res) => {
      const { q, limit } = parseQuery(req, playerSearchQuery);
      const players = await service.searchPlayers(param(req, 'boardId'), q, limit ?? 10);
      const list: PlayerList = { players };
      res.set('Cache-Control', 'no-cache').json(list);
    })
    .post(async (req, res) => {
      auth.require(req);
      const { name } = parseBody(req, createPlayerBody);
      const boardId = param(req, 'boardId');
      await idempotent(service, req, res, ADMIN_CREATED, () => service.addPlayer(boardId, name));
    })
    .all(methodNotAllowed('GET, POST'));

  router
    .route(routePatterns.player)
    .get(async (req, res) => {
      const player = await service.viewPlayer(param(req, 'boardId'), param(req, 'playerId'));
      res.set('Cache-Control', 'no-cache').json(player);
    })
    .patch(async (req, res) => {
      auth.require(req);
      const patch = parseBody(req, updatePlayerBody);
      const [boardId, playerId] = [param(req, 'boardId'), param(req, 'playerId')];
      await idempotent(service, req, res, ADMIN_OK, () =>
        service.updatePlayer(boardId, playerId, patch),
      );
    })
    .delete(async (req, res) => {
      auth.require(req);
      const [boardId, playerId] = [param(req, 'boardId'), param(req, 'playerId')];
      await idempotent(service, req, res, ADMIN_EMPTY, () =>
        service.removePlayer(boardId, playerId),
      );
    })
    .all(methodNotAllowed('GET, PATCH, DELETE'));

  router
    .route(routePatterns.scoreAdd)
    .post(async (req, res) => {
      const admin = auth.isAdmin(req);
      const { amount } = parseBody(req, scoreAddBody, {});
      if (amount !== 1 && !admin) {
        throw unauthorized('only +1 is public; another amount needs the admin token');
      }
      const boardId = param(req, 'boardId');
      const playerId = param(req, 'playerId');
      // A +1 for nobody is refused before it costs the client a token.
      await service.requirePlayer(boardId, playerId);
      if (!admin) takeToken(limiter, req, metrics);
      const route = { scope: admin ? 'admin' : 'public', status: 200 };
      await idempotent(service, req, res, route, async () => {
        const player = await service.addScore(boardId, playerId, amount);
        metrics.scoreAdds.inc({ by: admin ? 'admin' : 'public' });
        return player;
      });
    })
    .all(methodNotAllowed('POST'));

  return router;
}

/** Takes one of the client's public `+1` tokens, or refuses with 429 and when to try again. */
function takeToken(limiter: RateLimiter, req: Request, metrics: Metrics): void {
  const verdict = limiter.take(clientKey(req.ip));
  if (!verdict.allowed) {
    metrics.rateLimited.inc();
    throw new HttpError(429, 'rate_limited', 'too many +1s from this address; slow down', {
      'Retry-After': String(verdict.retryAfterSeconds),
    });
  }
}
