import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Publisher } from '@fanoutio/grip';
import { ServeGrip } from '@fanoutio/serve-grip/node';
import express, { type Express } from 'express';
import { AdminAuth } from './auth.ts';
import { Broadcaster } from './broadcaster.ts';
import type { Config } from './config.ts';
import type { NewId } from './domain/board.ts';
import { gripPublish } from './grip.ts';
import { cors, securityHeaders } from './headers.ts';
import { errorHandler, HttpError } from './http/errors.ts';
import { RateLimiter } from './rate-limit.ts';
import { boardRoutes } from './routes.ts';
import type { Store } from './store/store.ts';

export interface AppDeps {
  config: Config;
  store: Store;
  /** Publishes to the GRIP proxy and verifies its `Grip-Sig` (configured with the verify key). */
  publisher: Publisher;
  adminToken: string;
  newId: NewId;
  clock?: { now(): number };
  log?: (message: string) => void;
}

/** Builds the origin: the board API, the GRIP stream, and the built web app. */
export function createApp(deps: AppDeps): { app: Express; broadcaster: Broadcaster } {
  const { config, store, publisher } = deps;
  const now = deps.clock?.now.bind(deps.clock) ?? Date.now;
  const log = deps.log ?? ((message: string) => console.error(message));
  const broadcaster = new Broadcaster({
    data: () => store.data,
    commit: () => store.commit(),
    publish: gripPublish(publisher),
    publishIntervalMs: config.publishIntervalMs,
    historySize: config.historySize,
    now,
    onError: (error) => log(`publish failed: ${(error as Error).message}`),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);
  app.use(securityHeaders(config.frameAncestors));
  app.use(cors(config.corsOrigins));
  // After a failed write memory may hold changes the disk does not: serve nothing (health
  // included, so a supervisor sees it) until the origin restarts from the disk.
  app.use((_req, _res, next) => {
    next(
      store.failed
        ? new HttpError(
            503,
            'storage_failed',
            'the data file cannot be written; the origin is stopping',
          )
        : undefined,
    );
  });
  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ ok: true });
  });
  // Only GETs are ever held. serve-grip reads the whole body of any POST that says
  // `Content-Type: application/websocket-events`, with no size limit and before ours, and answers
  // a malformed one in plain text: we serve no WebSocket-over-HTTP, so it never sees those.
  const serveGrip = new ServeGrip({ grip: publisher });
  app.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') serveGrip(req, res, next);
    else next();
  });
  app.use(requireJsonWhenBody);
  app.use(express.json({ limit: '4kb', strict: true, type: 'application/json' }));
  app.use(
    boardRoutes({
      config,
      store,
      live: broadcaster,
      publisher,
      auth: new AdminAuth(deps.adminToken),
      limiter: new RateLimiter(config.scoreRatePerSecond, config.scoreBurst, now),
      newId: deps.newId,
      now: () => new Date(now()),
    }),
  );
  serveWeb(app, config.webDist);
  app.use((req, _res, next) => {
    next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(log));
  return { app, broadcaster };
}

// Methods whose requests carry nothing: a body on one would be silently ignored, so it is refused.
const BODILESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

/** A body is UTF-8 JSON (RFC 8259) or nothing: anything else is refused before it is read. */
const requireJsonWhenBody: express.RequestHandler = (req, _res, next) => {
  const hasBody =
    req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
  if (!hasBody) {
    next();
  } else if (BODILESS.has(req.method)) {
    next(new HttpError(400, 'unexpected_body', `a ${req.method} request takes no body`));
  } else if (!req.is('application/json') || !isUtf8(req.get('content-type'))) {
    next(
      new HttpError(
        415,
        'unsupported_media_type',
        'send the body as Content-Type: application/json (UTF-8)',
      ),
    );
  } else {
    next();
  }
};

function isUtf8(contentType: string | undefined): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1];
  return charset === undefined || charset.toLowerCase() === 'utf-8';
}

function serveWeb(app: Express, webDist: string): void {
  const root = resolve(webDist);
  const index = join(root, 'index.html');
  app.use(
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
  app.use(express.static(root, { index: false, maxAge: '5m', redirect: false }));
  // The SPA's own pages (`/`, `/b/<id>`) are index.html; the API keeps its JSON 404s.
  app.get(/^\/(?!boards\/|assets\/)(?:b\/[^/]+\/?)?$/, (_req, res, next) => {
    if (!existsSync(index)) {
      next(
        new HttpError(404, 'web_not_built', 'the web app is not built: run `npm run build:web`'),
      );
      return;
    }
    res.set('Cache-Control', 'no-cache').sendFile(index);
  });
}
