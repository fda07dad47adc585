import type { Publisher } from '@fanoutio/grip';
import { ServeGrip } from '@fanoutio/serve-grip/node';
import express, { type Express } from 'express';
import type { StoreBackend } from './backend.ts';
import { Broadcaster } from './broadcaster.ts';
import type { Config } from './config.ts';
import { gripPublish, isPublishRefusal, publishErrorMessage, publishFailure } from './grip.ts';
import { adminRoutes, restoreRoutes } from './http/admin.ts';
import { AdminAuth } from './http/auth.ts';
import { boardRoutes } from './http/boards.ts';
import { jsonBody } from './http/body.ts';
import { errorHandler, HttpError } from './http/errors.ts';
import { exportRoutes } from './http/export.ts';
import { cors, securityHeaders } from './http/headers.ts';
import { healthRoutes, readinessRoutes } from './http/health.ts';
import { importRoutes } from './http/import.ts';
import { keyRoutes } from './http/keys.ts';
import { playerRoutes } from './http/players.ts';
import { requestLogging } from './http/request-log.ts';
import { requestMetrics } from './http/request-metrics.ts';
import type { ApiDeps } from './http/routing.ts';
import { ScoreAuth } from './http/score-auth.ts';
import { scoreRoutes } from './http/scores.ts';
import { seasonRoutes } from './http/seasons.ts';
import { recoveryRoutes } from './http/streams.ts';
import { webRoutes } from './http/web.ts';
import type { Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import { SeasonScheduler, type Timers } from './seasons.ts';
import { BoardService } from './service/boards.ts';
import { KeyService } from './service/keys.ts';

export interface AppDeps {
  config: Config;
  /** The store (embedded or Redis) and how its changes reach the broadcaster. */
  backend: StoreBackend;
  /** Publishes to the GRIP proxy and verifies its `Grip-Sig` (configured with the verify key). */
  publisher: Publisher;
  adminToken: string;
  clock?: { now(): number } | undefined;
  /** The season scheduler's timers (default Node's); tests inject their own with the clock. */
  timers?: Timers | undefined;
  /** Where the origin logs (JSON lines; see log.ts). */
  logger: Logger;
  /** Process and Node metrics (CPU, memory, event-loop delay) in the registry; default true. */
  defaultMetrics?: boolean | undefined;
}

/** What `createApp` builds: the Express app and the parts `main.ts` needs besides it. */
export interface App {
  app: Express;
  /** Publishes what is still waiting, for a clean stop (`drain`). */
  broadcaster: Broadcaster;
  /** The app's own metrics registry, served on the metrics port. */
  metrics: Metrics;
  /** Rolls boards into their next season at each boundary; `main.ts` starts and stops it. */
  seasons: SeasonScheduler;
}

/** Builds the origin: the board API, the GRIP stream, and the built web app. */
export function createApp(deps: AppDeps): App {
  const { config, backend, publisher, logger } = deps;
  const { store } = backend;
  const now = deps.clock?.now.bind(deps.clock) ?? Date.now;
  const broadcaster: Broadcaster = new Broadcaster({
    read: (boardId, pages) => store.pages(boardId, pages),
    commit: backend.commit ?? (async () => {}),
    ...(backend.claim === undefined ? {} : { claim: backend.claim }),
    publish: gripPublish(publisher),
    publishIntervalMs: config.publishIntervalMs,
    pagesPerFlush: config.pagesPerFlush,
    reloadSpreadMs: config.reloadSpreadMs,
    isRefusal: isPublishRefusal,
    onRefused: (error, boardId, channel) =>
      logger.error(
        { boardId, channel, failure: publishFailure(error) },
        `the proxy refused a message for its content (${publishErrorMessage(error)}); viewers are told to reload, and it is not sent again`,
      ),
    now,
    onError: (error, boardId) =>
      logger.warn(
        { boardId, failure: publishFailure(error) },
        `publish failed: ${publishErrorMessage(error)}`,
      ),
    onPublish: (report) => metrics.publish(report),
  });
  backend.connect(broadcaster);
  const metrics = instrument(backend, broadcaster, deps.defaultMetrics ?? true);
  const seasons = new SeasonScheduler({
    store,
    now: () => new Date(now()),
    timers: deps.timers,
    onRoll: (boardId, boundary) =>
      logger.info({ boardId, boundary }, `board ${boardId} began a new season`),
    onError: (error, boardId) =>
      logger.warn({ err: error, boardId }, `season check failed: ${String(error)}`),
  });
  const service = new BoardService({
    store,
    publishing: broadcaster,
    limits: { maxBoards: config.maxBoards, maxPlayersPerBoard: config.maxPlayersPerBoard },
    now: () => new Date(now()),
    onScheduleChange: () => void seasons.check(),
  });
  const api: ApiDeps = {
    service,
    auth: new AdminAuth(deps.adminToken),
    scoreAuth: new ScoreAuth({ adminToken: deps.adminToken, keys: backend.keys, now }),
    keys: new KeyService({ keys: backend.keys, boards: store, now: () => new Date(now()) }),
    limiter: new RateLimiter(config.scoreRatePerSecond, config.scoreBurst, now),
    publisher,
    keepAliveSeconds: config.keepAliveSeconds,
    metrics,
    restoreMaxBytes: config.restoreMaxBytes,
  };
  return { app: expressApp(config, api, logger), broadcaster, metrics, seasons };
}

/** The app's metrics, fed by the store's commits; the gauges read the store when scraped. */
function instrument(
  backend: StoreBackend,
  broadcaster: Broadcaster,
  defaultMetrics: boolean,
): Metrics {
  const metrics = new Metrics(
    {
      counts: () => backend.store.counts(),
      failingBoards: () => broadcaster.publishHealth().failingBoards,
    },
    { defaultMetrics },
  );
  backend.onCommit?.((commit) => metrics.commit(commit));
  return metrics;
}

/** The HTTP side: middleware in the order it must run, then the routes. */
function expressApp(config: Config, api: ApiDeps, logger: Logger): Express {
  const { service, publisher, metrics } = api;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);
  app.use(requestLogging(logger, app.get('trust proxy fn')));
  app.use(requestMetrics(metrics));
  app.use(securityHeaders(config.frameAncestors));
  app.use(cors(config.corsOrigins));
  app.use(readinessRoutes(service));
  // After a failed write memory may hold changes the disk does not: serve nothing (health
  // included, so a supervisor sees it) until the origin restarts from the disk.
  // On Redis an outage is not the origin's failure: it answers 503 meanwhile and recovers by
  // itself, so /healthz (liveness) stays 200 and a supervisor does not restart every origin.
  app.use((req, _res, next) => {
    if (req.path === '/healthz' && service.recoversByItself()) next();
    else {
      service.assertAvailable();
      next();
    }
  });
  app.use(healthRoutes());
  // Only GETs are ever held. serve-grip reads the whole body of any POST that says
  // `Content-Type: application/websocket-events`, with no size limit and before ours, and answers
  // a malformed one in plain text: we serve no WebSocket-over-HTTP, so it never sees those.
  const serveGrip = new ServeGrip({ grip: publisher });
  app.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') serveGrip(req, res, next);
    else next();
  });
  app.use(restoreRoutes(api));
  app.use(importRoutes({ ...api, importMaxBytes: config.importMaxBytes }));
  app.use(scoreRoutes(api));
  app.use(jsonBody());
  app.use(
    adminRoutes(api),
    keyRoutes(api),
    boardRoutes(api),
    seasonRoutes(api),
    exportRoutes(api),
    recoveryRoutes(api),
    playerRoutes(api),
  );
  app.use(webRoutes(config.webDist));
  app.use((req, _res, next) => {
    next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(logger));
  return app;
}
