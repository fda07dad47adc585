import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

// The two reference servers of the ceiling, each alone in its own process like the origin: the
// least a Node `http` server and an Express app can do per request, answering the same small
// JSON. Started by ceiling.ts with the kind as the first argument; reports its port over IPC.

const BODY = '{"ok":true}';
const kind = process.argv[2];

function listening(server: ReturnType<typeof createServer>): void {
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
}

if (kind === 'http') {
  listening(
    createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(BODY);
    }),
  );
} else if (kind === 'express') {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.all('/', (_req, res) => {
    res.json({ ok: true });
  });
  listening(createServer(app));
} else {
  console.error(`ceiling-server: unknown kind ${kind}; expected http or express`);
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
