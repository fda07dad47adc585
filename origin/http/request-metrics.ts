import type { RequestHandler } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import type { Metrics } from '../metrics.ts';

/** Each route pattern as a regular expression over paths, the trailing slash optional (as routed). */
const ROUTES: [RegExp, string][] = Object.values(routePatterns).map((pattern) => [
  new RegExp(`^${pattern.replace(/:[A-Za-z]+/g, '[^/]+').replace(/\/$/, '')}/?$`),
  pattern,
]);

/**
 * The label a path is counted under: its route pattern (`/boards/:boardId/`), `/assets/*` for the
 * web app's files, `other` for the rest. Never the path itself: ids would make a series per board
 * and player, and anyone could create series by asking for paths that do not exist.
 */
export function routeOf(path: string): string {
  for (const [regex, pattern] of ROUTES) {
    if (regex.test(path)) return pattern;
  }
  return path.startsWith('/assets/') ? '/assets/*' : 'other';
}

/** Counts every request and times it to its last byte, by route pattern, method and status. */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const path = req.path;
    res.once('close', () => {
      metrics.httpRequests.observe(
        { route: routeOf(path), method: req.method, status: String(res.statusCode) },
        (performance.now() - started) / 1000,
      );
    });
    next();
  };
}
