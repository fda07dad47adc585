import { Router } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import type { BoardService } from '../service/boards.ts';
import { methodNotAllowed } from './routing.ts';

/**
 * `/healthz`, liveness, for a supervisor or load balancer. It answers only while the origin serves:
 * after a failed write the storage check in front of it answers 503 instead.
 */
export function healthRoutes(): Router {
  const router = Router();
  router
    .route(routePatterns.health)
    .get((_req, res) => {
      res.set('Cache-Control', 'no-store').json({ ok: true });
    })
    .all(methodNotAllowed('GET'));
  return router;
}

/**
 * `/readyz`, readiness: 200 when the data file takes writes and publishes go through, else 503
 * saying which fails. Mounted before the storage check, so that it can say so itself.
 */
export function readinessRoutes(service: Pick<BoardService, 'readiness'>): Router {
  const router = Router();
  router
    .route(routePatterns.ready)
    .get((_req, res) => {
      const readiness = service.readiness();
      res
        .status(readiness.ready ? 200 : 503)
        .set('Cache-Control', 'no-store')
        .json(readiness);
    })
    .all(methodNotAllowed('GET'));
  return router;
}
