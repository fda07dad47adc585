import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { Router } from 'express';
import { HttpError } from './errors.ts';

/** The built web app: hashed assets cached for a year, the SPA's own pages as index.html. */
export function webRoutes(webDist: string): Router {
  const root = resolve(webDist);
  const index = join(root, 'index.html');
  const router = Router();
  router.use(
    '/assets',
    express.static(join(root, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      fallthrough: true,
      redirect: false,
    }),
  );
  // No directory redirects: serve-static answers them with an HTML page; ours is a JSON 404.
  router.use(express.static(root, { index: false, maxAge: '5m', redirect: false }));
  // The SPA's own pages (`/`, `/b/<id>`, `/b/<id>/seasons[/<n>]`) are index.html; the API keeps
  // its JSON 404s.
  router.get(
    /^\/(?!boards\/|assets\/)(?:b\/[^/]+(?:\/seasons(?:\/\d+)?)?\/?)?$/,
    (_req, res, next) => {
      if (!existsSync(index)) {
        next(
          new HttpError(404, 'web_not_built', 'the web app is not built: run `npm run build:web`'),
        );
        return;
      }
      res.set('Cache-Control', 'no-cache').sendFile(index);
    },
  );
  return router;
}
