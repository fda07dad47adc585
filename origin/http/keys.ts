import type { Request, Router } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import { type ApiKeyList, createApiKeyBody } from '../../contract/scores.ts';
import { HttpError } from './errors.ts';
import { type ApiDeps, apiRouter, methodNotAllowed, parseBody } from './routing.ts';

const KEY_ID = /^[A-Za-z0-9_-]{12}$/;

const keyNotFound = () => new HttpError(404, 'not_found', 'there is no API key with this id');

/**
 * `/admin/keys/`: the admin makes, lists and revokes the API keys game servers submit scores
 * with. The admin token only: an API key is refused here like on every admin route.
 */
export function keyRoutes({ auth, keys }: Pick<ApiDeps, 'auth' | 'keys'>): Router {
  const router = apiRouter();
  router
    .route(routePatterns.apiKeys)
    .get(async (req, res) => {
      auth.require(req);
      const list: ApiKeyList = { keys: await keys.list() };
      res.set('Cache-Control', 'no-store').json(list);
    })
    .post(async (req, res) => {
      auth.require(req);
      const body = parseBody(req, createApiKeyBody);
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json(await keys.create(body));
    })
    .all(methodNotAllowed('GET, POST'));
  router
    .route(routePatterns.apiKey)
    .delete(async (req, res) => {
      auth.require(req);
      const revoked = await keys.revoke(keyId(req));
      if (revoked === undefined) throw keyNotFound();
      res.status(204).end();
    })
    .all(methodNotAllowed('DELETE'));
  return router;
}

function keyId(req: Request): string {
  const value = req.params.keyId;
  if (typeof value !== 'string' || !KEY_ID.test(value)) throw keyNotFound();
  return value;
}
