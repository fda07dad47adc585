import express, { type RequestHandler } from 'express';
import { HttpError } from './errors.ts';

// Methods whose requests carry nothing: a body on one would be silently ignored, so it is refused.
const BODILESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

/**
 * Reads request bodies: UTF-8 JSON (RFC 8259) of at most `limitBytes` (4 KB unless told), or
 * nothing. Anything else is refused before it is read. Leaves `req.body` undefined when there is
 * no body.
 */
export function jsonBody(limitBytes = 4 * 1024): RequestHandler[] {
  return [
    requireJsonWhenBody,
    express.json({
      limit: limitBytes,
      strict: true,
      type: 'application/json',
      verify: (req, _res, bytes) => {
        rawBodies.set(req, bytes);
      },
    }),
  ];
}

const rawBodies = new WeakMap<object, Buffer>();

/**
 * Notes what stands for a body read another way (a streamed import: its SHA-256), so that
 * `rawBodyOf` fingerprints it.
 */
export function noteBody(req: object, bytes: Buffer): void {
  rawBodies.set(req, bytes);
}

/** The bytes of the request's JSON body as received (empty without one): what is fingerprinted. */
export function rawBodyOf(req: object): Buffer {
  return rawBodies.get(req) ?? Buffer.alloc(0);
}

const requireJsonWhenBody: RequestHandler = (req, _res, next) => {
  const hasBody =
    req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
  if (!hasBody) {
    next();
  } else if (BODILESS.has(req.method)) {
    next(new HttpError(400, 'unexpected_body', `a ${req.method} request takes no body`));
  } else if (!req.is('application/json') || !isUtf8(req.get('content-type'))) {
    next(
      new HttpError(
        415,
        'unsupported_media_type',
        'send the body as Content-Type: application/json (UTF-8)',
      ),
    );
  } else {
    next();
  }
};

/** Whether a Content-Type names UTF-8, or no charset (which for our types means UTF-8). */
export function isUtf8(contentType: string | undefined): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1];
  return charset === undefined || charset.toLowerCase() === 'utf-8';
}
