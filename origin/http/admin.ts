import type { Router } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import { type ApiDeps, apiRouter, methodNotAllowed } from './routing.ts';

/** `/admin/`: lets a client check an admin token without side effects (the web app's sign-in). */
export function adminRoutes({ auth }: Pick<ApiDeps, 'auth'>): Router {
  const router = apiRouter();
  router
    .route(routePatterns.admin)
    .get((req, res) => {
      auth.require(req);
      res.set('Cache-Control', 'no-store').json({ admin: true });
    })
    .all(methodNotAllowed('GET'));
  return router;
}
