import type { Router } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import { scoreBatchBody } from '../../contract/scores.ts';
import { jsonBody } from './body.ts';
import { idempotent, scopeOf } from './idempotency.ts';
import { type ApiDeps, apiRouter, methodNotAllowed, param, parseBody } from './routing.ts';

/** Largest score batch body: 1,000 entries of the longest keys and names fit. */
const SCORE_BATCH_MAX_BYTES = 1024 * 1024;

/**
 * Score batches from game servers (`POST /boards/:id/scores/`): the admin token or an API key for
 * the board; checked whole, applied as one change, or refused whole with `invalid_entries`.
 */
export function scoreRoutes({
  service,
  scoreAuth,
}: Pick<ApiDeps, 'service' | 'scoreAuth'>): Router {
  const router = apiRouter();
  router
    .route(routePatterns.scores)
    .post(...jsonBody(SCORE_BATCH_MAX_BYTES), async (req, res) => {
      const boardId = param(req, 'boardId');
      const principal = await scoreAuth.authorize(req, boardId);
      const { entries } = parseBody(req, scoreBatchBody);
      await idempotent(service, req, res, { scope: scopeOf(principal), status: 200 }, () =>
        service.submitScores(boardId, entries),
      );
    })
    .all(methodNotAllowed('POST'));
  return router;
}
