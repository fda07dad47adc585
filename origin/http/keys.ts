import type { Request, Router } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import { type ApiKeyList, createApiKeyBody } from '../../contract/scores.ts';
import { HttpError } from './errors.ts';
import {
  ADMIN_CREATED_AFTER,
  ADMIN_EMPTY_AFTER,
  idempotent,
  idempotentRequestOf,
} from './idempotency.ts';
import { type ApiDeps, apiRouter, methodNotAllowed, parseBody } from './routing.ts';

const KEY_ID = /^[A-Za-z0-9_-]{12}$/;

const keyNotFound = () => new HttpError(404, 'not_found', 'there is no API key with this id');

/**
 * `/admin/keys/`: the admin makes, lists and revokes the API keys game servers submit scores
 * with. The admin token only: an API key is refused here like on every admin route.
 */
export function keyRoutes({
  auth,
  keys,
  service,
}: Pick<ApiDeps, 'auth' | 'keys' | 'service'>): Router {
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
      res.set('Cache-Control', 'no-store');
      const request = idempotentRequestOf(req, ADMIN_CREATED_AFTER);
      if (request === undefined) {
        res.status(201).json(await keys.create(body));
        return;
      }
      // The answer kept for a retry is the key without its token: a token is never kept.
      let token: string | undefined;
      const outcome = await service.idempotentAfter(request, async () => {
        const created = await keys.create(body);
        token = created.token;
        return { key: created.key };
      });
      if (outcome.replayed || token === undefined) throw alreadyMade(outcome);
      res.status(201).json({ key: outcome.result.key, token });
    })
    .all(methodNotAllowed('GET, POST'));
  router
    .route(routePatterns.apiKey)
    .delete(async (req, res) => {
      auth.require(req);
      const id = keyId(req);
      await idempotent(service, req, res, ADMIN_EMPTY_AFTER, async () => {
        if ((await keys.revoke(id)) === undefined) throw keyNotFound();
      });
    })
    .all(methodNotAllowed('DELETE'));
  return router;
}

/** A retry of a key's making: the token was shown once, to the first answer. */
function alreadyMade(outcome: { replayed: true; body: string } | { replayed: false }): HttpError {
  const made = outcome.replayed ? (JSON.parse(outcome.body) as { key?: { id?: string } }) : {};
  return new HttpError(
    409,
    'api_key_already_made',
    `this Idempotency-Key already made API key ${made.key?.id ?? ''}; its token was shown once, ` +
      'to that answer: if it was lost, revoke the key and make another',
  );
}

function keyId(req: Request): string {
  const value = req.params.keyId;
  if (typeof value !== 'string' || !KEY_ID.test(value)) throw keyNotFound();
  return value;
}
