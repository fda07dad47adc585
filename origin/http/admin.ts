import type { Request, RequestHandler, Response, Router } from 'express';
import { backupSchema } from '../../contract/backup.ts';
import { routePatterns } from '../../contract/paths.ts';
import { jsonBody } from './body.ts';
import { badRequest } from './errors.ts';
import { ADMIN_OK_AFTER, idempotent } from './idempotency.ts';
import { type ApiDeps, apiRouter, check, methodNotAllowed } from './routing.ts';

/**
 * `/admin/`: lets a client check an admin token without side effects (the web app's sign-in).
 * `/admin/backup/`: the whole database as one JSON document, to download.
 */
export function adminRoutes({ auth, service }: Pick<ApiDeps, 'auth' | 'service'>): Router {
  const router = apiRouter();
  router
    .route(routePatterns.admin)
    .get((req, res) => {
      auth.require(req);
      res.set('Cache-Control', 'no-store').json({ admin: true });
    })
    .all(methodNotAllowed('GET'));
  router
    .route(routePatterns.backup)
    .get(async (req, res) => {
      auth.require(req);
      const backup = await service.backup();
      const day = backup.createdAt.slice(0, 10);
      res
        .set('Cache-Control', 'no-store')
        .set('Content-Disposition', `attachment; filename="leaderboard-backup-${day}.json"`)
        .json(backup);
    })
    .all(methodNotAllowed('GET'));
  return router;
}

/**
 * `POST /admin/restore/`: replaces the whole database with a backup. Mounted before the API's own
 * 4 KB body reader: a backup may run to `restoreMaxBytes`, and it is read only once the admin
 * token has been checked, so nobody else can make the origin read a large body.
 */
export function restoreRoutes({
  auth,
  service,
  restoreMaxBytes,
}: Pick<ApiDeps, 'auth' | 'service' | 'restoreMaxBytes'>): Router {
  const requireAdmin: RequestHandler = (req, _res, next) => {
    auth.require(req);
    next();
  };
  const router = apiRouter();
  router
    .route(routePatterns.restore)
    .post(requireAdmin, ...jsonBody(restoreMaxBytes), async (req: Request, res: Response) => {
      if (req.body === undefined) {
        throw badRequest('invalid_backup', 'send the backup as the JSON body');
      }
      const backup = check(backupSchema, req.body, 'invalid_backup');
      res.set('Cache-Control', 'no-store');
      await idempotent(service, req, res, ADMIN_OK_AFTER, () => service.restore(backup));
    })
    .all(methodNotAllowed('POST'));
  return router;
}
