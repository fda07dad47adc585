import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { createApp } from './app.ts';
import { embeddedBackend, type StoreBackend } from './backend.ts';
import { type Config, ConfigError, loadConfig, logSettingsOf } from './config.ts';
import { type NewId, seedDatabase } from './domain/board.ts';
import { createPublisher } from './grip.ts';
import { createLogger, type Logger, logDestination } from './log.ts';
import { metricsListener } from './metrics.ts';
import { redisBackend } from './redis-backend.ts';
import { ensureSecret } from './secrets.ts';
import { StoreUnavailableError } from './store/errors.ts';
import { DataFileError } from './store/json-file.ts';
import { EmbeddedKeyStore } from './store/keys/embedded.ts';
import { fileStore } from './store/store.ts';

// The only file that reads the environment, touches ports, and decides where secrets live.

async function main(logger: Logger): Promise<void> {
  const config = loadConfig(process.env);
  const { adminToken, verifyKey } = await secretsOf(config, logger);
  const publisher = createPublisher({ ...config, verifyKey, verifyIss: config.gripVerifyIss });
  // 72 random bits: unguessable, URL-safe, 12 characters.
  const newId = () => randomBytes(9).toString('base64url');
  const backend = await backendOf(config, newId, logger);
  const { app, metrics, seasons } = createApp({ config, backend, publisher, adminToken, logger });
  // Boundaries passed while the origin was down are applied before it serves (once each board).
  await seasons.start();
  const server = await listen(app.listen(config.port, config.host), 'origin', logger);
  // Metrics on a port of their own (loopback unless METRICS_HOST says otherwise): never through
  // the edge, and scraped without the API's middleware.
  const metricsServer =
    config.metrics === undefined
      ? undefined
      : await listen(
          createServer(metricsListener(metrics.registry)).listen(
            config.metrics.port,
            config.metrics.host,
          ),
          'metrics',
          logger,
        );

  // A clean stop: take no new requests, let those under way finish (their writes are
  // acknowledged), flush the data file, publish what is still waiting, then exit.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping');
    seasons.stop();
    metricsServer?.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
    closed
      .then(() => backend.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.fatal({ err: error }, 'stopping failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The embedded store in the data file, or the Redis store when REDIS_URL names one. */
async function backendOf(config: Config, newId: NewId, logger: Logger): Promise<StoreBackend> {
  const limits = { maxBoards: config.maxBoards, maxPlayersPerBoard: config.maxPlayersPerBoard };
  if (config.redis !== undefined) {
    const backend = await redisBackend(config.redis, {
      limits,
      newId,
      publishIntervalMs: config.publishIntervalMs,
      seed: true,
      onError: (error, boardId) =>
        logger.warn({ err: error, boardId }, `Redis: ${errorMessage(error)}`),
      onTakeover: (boardId, cursor) =>
        logger.info({ boardId, cursor }, `publishing board ${boardId} from its log`),
    });
    logger.info(
      `store: Redis ${config.redis.cluster ? 'Cluster' : 'node'} ${config.redis.urls.join(', ')}`,
    );
    return backend;
  }
  const store = await fileStore(
    config.dataFile,
    () => seedDatabase(newId, new Date()),
    (error) => {
      // Crash-only: memory is now ahead of the disk. Let the 500s go out, then stop; whatever
      // supervises the origin restarts it from what the disk holds.
      logger.fatal({ err: error }, `writing ${config.dataFile} failed, stopping`);
      setTimeout(() => process.exit(1), 100).unref();
    },
  );
  // API keys in a file of their own beside the data file; last-used times are written every 10 s.
  const keys = await EmbeddedKeyStore.open(`${config.dataFile}.keys.json`, {
    onError: (error) => logger.warn({ err: error }, `API key file: ${errorMessage(error)}`),
  });
  return embeddedBackend(store, { limits, newId, keys });
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The admin token and the key that verifies `Grip-Sig`: configured, or kept beside the data. */
async function secretsOf(config: Config, logger: Logger) {
  const dataDir = dirname(config.dataFile);
  let adminToken = config.adminToken;
  if (adminToken === undefined) {
    const path = join(dataDir, 'admin-token');
    const secret = await ensureSecret(path);
    adminToken = secret.value;
    // Where it is, never what it is: a log is no place for a secret.
    if (secret.created) logger.warn(`admin token created and kept in ${path} (mode 0600)`);
  }
  const verifyKey = config.gripVerifyKey ?? (await ensureSecret(join(dataDir, 'grip-key'))).value;
  return { adminToken, verifyKey };
}

/** Resolves once `server` listens (logging where), or stops the process when it cannot. */
function listen(server: Server, name: string, logger: Logger): Promise<Server> {
  return new Promise((resolve) => {
    server.once('listening', () => {
      const address = server.address();
      const where =
        typeof address === 'object' && address !== null
          ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
          : String(address);
      logger.info(`${name} listening on ${where}`);
      resolve(server);
    });
    server.once('error', (error) => {
      logger.fatal({ err: error }, `${name} could not listen: ${error.message}`);
      process.exit(1);
    });
  });
}

/** Logs why the origin could not start, in the format asked for, and exits. */
function failed(logger: Logger, error: unknown): never {
  if (
    error instanceof ConfigError ||
    error instanceof DataFileError ||
    error instanceof StoreUnavailableError
  ) {
    logger.fatal(error.message);
  } else {
    logger.fatal({ err: error }, 'the origin could not start');
  }
  process.exit(1);
}

const settings = logSettingsOf(process.env);
logDestination(settings.format).then(
  (destination) => {
    const logger = createLogger(settings.level, destination);
    main(logger).catch((error: unknown) => failed(logger, error));
  },
  (error: unknown) => failed(createLogger(settings.level), error),
);
