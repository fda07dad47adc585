import type { Response, Router } from 'express';
import type { BoardExport } from '../../contract/export.ts';
import { CSV_COLUMNS, exportQuery } from '../../contract/export.ts';
import { routePatterns } from '../../contract/paths.ts';
import { safeFileName, toCsv } from './csv.ts';
import { type ApiDeps, apiRouter, methodNotAllowed, param, parseQuery } from './routing.ts';

/** `/boards/:id/export/`: a board's results as a download, CSV or JSON (admin). */
export function exportRoutes({ service, auth }: Pick<ApiDeps, 'service' | 'auth'>): Router {
  const router = apiRouter();
  router
    .route(routePatterns.boardExport)
    .get(async (req, res) => {
      auth.require(req);
      const { format } = parseQuery(req, exportQuery);
      const exported = await service.exportBoard(param(req, 'boardId'));
      if (format === 'json') {
        attach(res, exported, 'json').json(exported);
      } else {
        attach(res, exported, 'csv').type('text/csv; charset=utf-8; header=present');
        res.send(csvOf(exported));
      }
    })
    .all(methodNotAllowed('GET'));
  return router;
}

/** The header row, then one row per player in rank order. */
function csvOf({ board }: BoardExport): string {
  return toCsv([CSV_COLUMNS, ...board.players.map((p) => [p.rank, p.name, p.score, p.id])]);
}

/**
 * Makes the answer a download named after the board and the day: `quiz-night-2026-12-02.csv`. The
 * name is ASCII letters, digits and dashes only, so no header or path can be smuggled in.
 */
function attach(res: Response, { board, exportedAt }: BoardExport, extension: string): Response {
  const name = `${safeFileName(board.name, board.id)}-${exportedAt.slice(0, 10)}.${extension}`;
  return res
    .set('Cache-Control', 'no-store')
    .set('Content-Disposition', `attachment; filename="${name}"`);
}
