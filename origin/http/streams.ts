import type { Request, RequestHandler, Response, Router } from 'express';
import { boardChannel, encodeSse } from '../../contract/events.ts';
import { apiPaths, routePatterns } from '../../contract/paths.ts';
import { boardQuery } from '../../contract/requests.ts';
import { acceptsEventStream, EVENT_STREAM } from '../../contract/stream.ts';
import { boardNotFound } from '../domain/errors.ts';
import { gripLastId, holdStream, isFromGripProxy } from '../grip.ts';
import type { StreamStart } from '../service/boards.ts';
import { HttpError } from './errors.ts';
import { type ApiDeps, apiRouter, methodNotAllowed, param, parseQuery } from './routing.ts';

type StreamDeps = Pick<ApiDeps, 'service' | 'publisher' | 'keepAliveSeconds' | 'metrics'>;

/**
 * A board's live stream: `GET /boards/:id/` with `Accept: text/event-stream`, held by the GRIP
 * proxy. Any other GET goes on to the next handler of the route (the board as JSON).
 */
export function boardStream(deps: StreamDeps): RequestHandler {
  const { service, publisher } = deps;
  return async (req, res, next) => {
    if (!acceptsEventStream(req.get('accept'))) {
      next();
      return;
    }
    const query = parseQuery(req, boardQuery);
    const boardId = param(req, 'boardId');
    service.requireBoard(boardId);
    res.vary('Accept');
    if (!(await isFromGripProxy(publisher, req))) {
      throw new HttpError(
        406,
        'grip_proxy_required',
        'live streams are served through a GRIP proxy: open this board through Pushpin ' +
          '(npm start) or Fastly Fanout, not on the origin directly',
      );
    }
    // Look the board up again: it may have been deleted while the signature was checked.
    const start = service.streamStart(boardId, lastEventIdOf(req) ?? query.lastEventId);
    if (start === undefined) throw boardNotFound();
    deps.metrics.streamOpens.inc({ catch_up: catchUpKind(start) });
    sendHeld(res, start, `retry: 2000\n\n${encodeCatchUp(start)}`, deps);
  };
}

/**
 * GRIP reliable streaming: when the proxy sees a gap in a channel's prev-id chain (or a stream
 * has been idle for a while) it asks here, with `Grip-Last: board-<id>; last-id=<version>`, for
 * what the stream missed. The body is appended to the client's stream; the headers renew the hold.
 */
export function recoveryRoutes(deps: StreamDeps): Router {
  const { service, publisher } = deps;
  const router = apiRouter();
  router
    .route(routePatterns.recover)
    .get(async (req, res) => {
      if (!(await isFromGripProxy(publisher, req))) {
        throw new HttpError(403, 'grip_proxy_required', 'only the GRIP proxy may recover streams');
      }
      const boardId = param(req, 'boardId');
      const last = gripLastId(req.get('grip-last'), boardChannel(boardId));
      const start = service.streamStart(boardId, last);
      deps.metrics.streamRecoveries.inc({
        catch_up: start === undefined ? 'deleted' : catchUpKind(start),
      });
      if (start === undefined) {
        // The board is gone: tell the client and let the stream end (no hold, no next link).
        res.type(EVENT_STREAM).send(encodeSse({ type: 'deleted', version: (last ?? 0) + 1 }));
        return;
      }
      sendHeld(res, start, encodeCatchUp(start), deps);
    })
    .all(methodNotAllowed('GET'));

  return router;
}

/** What brought a stream up to date: nothing (it was current), an update, or a snapshot. */
const catchUpKind = (start: StreamStart) => start.catchUp?.type ?? 'none';

function encodeCatchUp(start: StreamStart): string {
  return start.catchUp === undefined ? '' : encodeSse(start.catchUp);
}

/** Answers with `body` and has the proxy hold the stream open on the board's channel. */
function sendHeld(
  res: Response,
  start: StreamStart,
  body: string,
  { keepAliveSeconds }: Pick<StreamDeps, 'keepAliveSeconds'>,
): void {
  if (res.grip === undefined) throw new HttpError(500, 'grip_unavailable', 'GRIP is not set up');
  holdStream(res.grip, {
    channel: boardChannel(start.boardId),
    prevId: String(start.publishedVersion),
    keepAliveSeconds,
    nextLink: apiPaths.recover(start.boardId),
  });
  res.status(200).type(EVENT_STREAM).set('Cache-Control', 'no-store').send(body);
}

/** The version an EventSource reconnects from (`Last-Event-ID`), when it is one. */
function lastEventIdOf(req: Request): number | undefined {
  const header = req.get('last-event-id');
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}
