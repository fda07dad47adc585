import type { Router } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import { DEFAULT_LIMIT, seasonNumberSchema, seasonQuery } from '../../contract/requests.ts';
import { type ApiDeps, apiRouter, check, methodNotAllowed, param, parseQuery } from './routing.ts';

/** A board's seasons: the one under way and the past ones, each past one's final standings. */
export function seasonRoutes(deps: Pick<ApiDeps, 'service'>): Router {
  const { service } = deps;
  const router = apiRouter();

  router
    .route(routePatterns.seasons)
    .get(async (req, res) => {
      const list = await service.seasons(param(req, 'boardId'));
      res.set('Cache-Control', 'no-cache').json(list);
    })
    .all(methodNotAllowed('GET'));

  router
    .route(routePatterns.season)
    .get(async (req, res) => {
      const boardId = param(req, 'boardId');
      const number = check(seasonNumberSchema, req.params.season, 'invalid_season');
      const { from = 0, limit = DEFAULT_LIMIT } = parseQuery(req, seasonQuery);
      const view = await service.seasonView(boardId, number, { from, limit });
      res.set('Cache-Control', 'no-cache').json(view);
    })
    .all(methodNotAllowed('GET'));

  return router;
}
