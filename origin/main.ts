import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { seedDatabase } from './domain/board.ts';
import { createPublisher } from './grip.ts';
import { ensureSecret } from './secrets.ts';
import { DataFileError } from './store/json-file.ts';
import { fileStore } from './store/store.ts';

// The only file that reads the environment, touches ports, and decides where secrets live.
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const dataDir = dirname(config.dataFile);

  let adminToken = config.adminToken;
  if (adminToken === undefined) {
    const secret = await ensureSecret(join(dataDir, 'admin-token'));
    adminToken = secret.value;
    if (secret.created)
      console.log(`admin token (created, kept in ${join(dataDir, 'admin-token')}): ${adminToken}`);
  }
  const verifyKey = config.gripVerifyKey ?? (await ensureSecret(join(dataDir, 'grip-key'))).value;

  const publisher = createPublisher({ ...config, verifyKey, verifyIss: config.gripVerifyIss });
  // 72 random bits: unguessable, URL-safe, 12 characters.
  const newId = () => randomBytes(9).toString('base64url');
  const store = await fileStore(
    config.dataFile,
    () => seedDatabase(newId, new Date()),
    (error) => {
      // Crash-only: memory is now ahead of the disk. Let the 500s go out, then stop; whatever
      // supervises the origin restarts it from what the disk holds.
      console.error(`origin: writing ${config.dataFile} failed, stopping: ${error.message}`);
      setTimeout(() => process.exit(1), 100).unref();
    },
  );
  const { app, broadcaster } = createApp({ config, store, publisher, adminToken, newId });

  const server = app.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    console.log(`origin listening on http://${config.host}:${port}`);
  });
  server.on('error', (error) => {
    console.error(`origin could not listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
  // A clean stop: take no new requests, let those under way finish (their writes are
  // acknowledged), flush the data file, publish what is still waiting, then exit.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
    closed
      .then(() => store.commit())
      .then(() => broadcaster.drain())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`origin: stopping: ${error instanceof Error ? error.message : error}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataFileError) {
    console.error(`origin: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
