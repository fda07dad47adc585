import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Request, Router } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import { importQuery, MAX_IMPORT_ROWS } from '../../contract/requests.ts';
import { isUtf8, noteBody } from './body.ts';
import { HttpError } from './errors.ts';
import { ADMIN_OK_AFTER, idempotent } from './idempotency.ts';
import { ImportReader, type LineProblem } from './import-lines.ts';
import { type ApiDeps, apiRouter, methodNotAllowed, param, parseQuery } from './routing.ts';

/** What an import body may be, by its Content-Type. */
const FORMATS = new Map<string, 'ndjson' | 'csv'>([
  ['application/x-ndjson', 'ndjson'],
  ['text/csv', 'csv'],
]);

/**
 * `POST /boards/:id/import/` (admin): many players at once, as NDJSON or CSV, streamed. The
 * token is checked before a byte of the body is read; the body is read line by line; if any line
 * is refused, nothing changes and the answer lists the lines and why.
 */
export function importRoutes(
  deps: Pick<ApiDeps, 'service' | 'auth'> & { importMaxBytes: number },
): Router {
  const { service, auth } = deps;
  const router = apiRouter();
  router
    .route(routePatterns.import)
    .post(async (req, res) => {
      auth.require(req);
      const { existing } = parseQuery(req, importQuery);
      const boardId = param(req, 'boardId');
      await service.requireBoard(boardId);
      const parsed = await readImport(req, formatOf(req), deps.importMaxBytes);
      if (parsed.problems.length > 0) throw invalidImport(parsed.problems);
      await idempotent(service, req, res, ADMIN_OK_AFTER, async () => {
        const outcome = await service.importPlayers(boardId, parsed.rows, existing === 'skip');
        if ('problems' in outcome) {
          throw invalidImport(
            outcome.problems.map((p) => ({ line: parsed.lines[p.row] ?? 0, message: p.message })),
          );
        }
        return outcome.result;
      });
    })
    .all(methodNotAllowed('POST'));
  return router;
}

function formatOf(req: Request): 'ndjson' | 'csv' {
  const contentType = req.get('content-type');
  const format = FORMATS.get((contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '');
  if (format === undefined || !isUtf8(contentType)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'send the players as Content-Type: application/x-ndjson or text/csv (UTF-8)',
    );
  }
  return format;
}

/** Reads the body line by line, refusing more than `maxBytes` or `MAX_IMPORT_ROWS` rows. */
async function readImport(req: Request, format: 'ndjson' | 'csv', maxBytes: number) {
  const reader = new ImportReader(format);
  // The body's digest as it streams by: what an Idempotency-Key retry is compared by.
  const digest = createHash('sha256');
  const lines = createInterface({
    input: req.setEncoding('utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let bytes = 0;
  let over = false;
  // Past the cap, stop reading: the answer goes out at once and the connection closes.
  req.on('data', (chunk: string) => {
    bytes += Buffer.byteLength(chunk);
    digest.update(chunk);
    if (bytes > maxBytes && !over) {
      over = true;
      lines.close();
      req.pause();
    }
  });
  for await (const line of lines) {
    if (over) break;
    reader.line(line);
    if (reader.parsed.rows.length > MAX_IMPORT_ROWS) {
      throw new HttpError(
        413,
        'too_many_rows',
        `an import holds at most ${MAX_IMPORT_ROWS} players`,
        {
          Connection: 'close',
        },
      );
    }
    if (reader.full) break;
  }
  if (over) throw tooLarge(maxBytes);
  reader.finish();
  noteBody(req, digest.digest());
  return reader.parsed;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    'body_too_large',
    `an import body is at most ${maxBytes / 2 ** 20} MB`,
    { Connection: 'close' },
  );
}

function invalidImport(lines: LineProblem[]): HttpError {
  const first = lines[0];
  return new HttpError(
    400,
    'invalid_import',
    `${lines.length}${lines.length >= 100 ? ' or more' : ''} line(s) refused, nothing imported` +
      (first === undefined ? '' : `; line ${first.line}: ${first.message}`),
    {},
    lines,
  );
}
