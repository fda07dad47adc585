import { Router } from 'express';
import { routePatterns } from '../../contract/paths.ts';

/**
 * `/healthz` for a supervisor or load balancer. It answers only while the origin serves: after a
 * failed write the storage check in front of it answers 503 instead.
 */
export function healthRoutes(): Router {
  const router = Router();
  router.get(routePatterns.health, (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ ok: true });
  });
  return router;
}
