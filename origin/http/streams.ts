import type { RequestHandler, Response, Router } from 'express';
import { encodeSse } from '../../contract/events.ts';
import { recoverLink, routePatterns } from '../../contract/paths.ts';
import { boardQuery, DEFAULT_LIMIT, recoverQuery } from '../../contract/requests.ts';
import { acceptsEventStream, EVENT_STREAM } from '../../contract/stream.ts';
import { MAX_MESSAGE_BYTES, MAX_WINDOW_ROWS, PAGE_SIZE } from '../../contract/windows.ts';
import { boardNotFound } from '../domain/errors.ts';
import { gripLastIds, holdStream, isFromGripProxy } from '../grip.ts';
import type { StreamStart, StreamWindow } from '../service/boards.ts';
import { badRequest, HttpError } from './errors.ts';
import { type ApiDeps, apiRouter, methodNotAllowed, param, parseQuery } from './routing.ts';

type StreamDeps = Pick<ApiDeps, 'service' | 'publisher' | 'keepAliveSeconds' | 'metrics'>;

/**
 * A board's live stream: `GET /boards/:id/` with `Accept: text/event-stream`, held by the GRIP
 * proxy on the board's channel and the channels of the pages its window covers. Any other GET
 * goes on to the next handler of the route (the board as JSON).
 */
export function boardStream(deps: StreamDeps): RequestHandler {
  const { service, publisher } = deps;
  return async (req, res, next) => {
    if (!acceptsEventStream(req.get('accept'))) {
      next();
      return;
    }
    const query = parseQuery(req, boardQuery);
    const window = streamWindow(query);
    const boardId = param(req, 'boardId');
    await service.requireBoard(boardId);
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
    // A resuming client (Last-Event-ID, or ?lastEventId=) gets the whole window again: see
    // BoardService.streamStart.
    const start = await service.streamStart(boardId, window);
    if (start === undefined) throw boardNotFound();
    deps.metrics.streamOpens.inc({ catch_up: catchUpKind(start) });
    sendHeld(res, start, `retry: 2000\n\n${encodeEvents(start)}`, deps);
  };
}

/** A stream's window from its query: at most `MAX_WINDOW_ROWS` rows, starting on a page. */
function streamWindow(query: {
  limit?: number | undefined;
  from?: number | undefined;
  around?: string | undefined;
}): StreamWindow {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (limit > MAX_WINDOW_ROWS) {
    throw badRequest('invalid_query', `limit: a live window holds at most ${MAX_WINDOW_ROWS} rows`);
  }
  const from = Math.floor((query.from ?? 0) / PAGE_SIZE) * PAGE_SIZE;
  return { from, limit, around: query.around };
}

/**
 * GRIP reliable streaming: when the proxy sees a gap in one of a stream's channels (or the stream
 * has been idle for a while) it asks here, with `Grip-Last: <channel>; last-id=<id>, ...`, for
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
      const { pages } = parseQuery(req, recoverQuery);
      const lastIds = gripLastIds(req.get('grip-last'));
      const start = await service.streamRecovery(boardId, pages, lastIds);
      deps.metrics.streamRecoveries.inc({
        catch_up: start === undefined ? 'deleted' : catchUpKind(start),
      });
      if (start === undefined) {
        // The board is gone: tell the client and let the stream end (no hold, no next link).
        const last = Math.max(0, ...lastIds.values());
        res.type(EVENT_STREAM).send(encodeSse({ type: 'deleted', version: last + 1 }));
        return;
      }
      sendHeld(res, start, encodeEvents(start), deps);
    })
    .all(methodNotAllowed('GET'));

  return router;
}

/** What brought a stream up to date: nothing (it was current), some pages, or the whole window. */
function catchUpKind(start: StreamStart): string {
  if (start.events.length === 0) return 'none';
  return start.events[0]?.type === 'board' ? 'window' : 'pages';
}

/**
 * The events as one body. A window is at most `MAX_STREAM_PAGES` pages of 25 rows, so this stays
 * well inside `MAX_MESSAGE_BYTES`; the check is a guard against that arithmetic going wrong.
 */
function encodeEvents(start: StreamStart): string {
  const body = start.events.map(encodeSse).join('');
  if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
    throw new HttpError(500, 'window_too_large', 'the window does not fit in one message');
  }
  return body;
}

/** Answers with `body` and has the proxy hold the stream open on its channels. */
function sendHeld(
  res: Response,
  start: StreamStart,
  body: string,
  { keepAliveSeconds }: Pick<StreamDeps, 'keepAliveSeconds'>,
): void {
  if (res.grip === undefined) throw new HttpError(500, 'grip_unavailable', 'GRIP is not set up');
  holdStream(res.grip, {
    channels: start.channels,
    keepAliveSeconds,
    nextLink: recoverLink(start.boardId, start.pages),
  });
  res.status(200).type(EVENT_STREAM).set('Cache-Control', 'no-store').send(body);
}
