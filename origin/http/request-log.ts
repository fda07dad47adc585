import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { RequestHandler } from 'express';
import { routePatterns } from '../../contract/paths.ts';
import type { Logger } from '../log.ts';

/** The part of pino-http's options used here. */
interface PinoHttpOptions {
  logger: Logger;
  quietReqLogger: boolean;
  genReqId: (req: IncomingMessage, res: ServerResponse) => string;
  customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error) => 'info' | 'error';
  autoLogging: { ignore: (req: IncomingMessage) => boolean };
  serializers: {
    req: (req: SerializedRequest) => unknown;
    res: (res: { statusCode: number }) => unknown;
  };
}

/** What pino-http's standard serializer makes of a request. */
interface SerializedRequest {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  remoteAddress: string;
}

// pino-http is loaded without its type declarations: they add required members to Node's own
// IncomingMessage and ServerResponse for the whole program, which breaks every other use of those
// types under exactOptionalPropertyTypes. Express's request is augmented below, in one place.
const pinoHttp = createRequire(import.meta.url)('pino-http') as (
  options: PinoHttpOptions,
) => RequestHandler;

declare global {
  namespace Express {
    interface Request {
      /** The request's id (see `requestIdOf`), set by `requestLogging`. */
      id?: string;
      /** A logger whose every line carries the request id, set by `requestLogging`. */
      log?: Logger;
    }
  }
}

/** What a request id may look like: a UUID, Fastly's 32-hex trace id, and the like. */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Probes answer every few seconds; their lines would drown the rest. */
const UNLOGGED = new Set<string>([routePatterns.health, routePatterns.ready]);

/**
 * The request's id: the `X-Request-Id` a trusted proxy (the edge) set, when it is well formed;
 * otherwise a fresh UUID. A client's own header is ignored unless it came through a trusted peer,
 * so nobody can make their requests pass for another's in the log.
 */
export function requestIdOf(
  req: IncomingMessage,
  trusted: (address: string, hop: number) => boolean,
): string {
  const header = req.headers['x-request-id'];
  const peer = req.socket.remoteAddress;
  if (typeof header === 'string' && REQUEST_ID.test(header) && peer !== undefined) {
    if (trusted(peer, 0)) return header;
  }
  return randomUUID();
}

/**
 * Logs every request as one JSON line when it ends (method, URL, status, time, headers with
 * secrets redacted), and gives it `req.log`, a logger whose every line carries the request id.
 * The id is echoed in `X-Request-Id`.
 */
export function requestLogging(
  logger: Logger,
  trusted: (address: string, hop: number) => boolean,
): RequestHandler {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdOf(req, trusted);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, error) =>
      error !== undefined || res.statusCode >= 500 ? 'error' : 'info',
    autoLogging: { ignore: (req) => UNLOGGED.has(req.url?.split('?')[0] ?? '') },
    // What a line needs to tell requests apart and follow one; the response's own headers (the
    // same security headers every time) would triple the size of every line.
    serializers: {
      req: ({ method, url, headers, remoteAddress }) => ({ method, url, headers, remoteAddress }),
      res: ({ statusCode }) => ({ statusCode }),
    },
  });
}
