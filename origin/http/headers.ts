import type { RequestHandler } from 'express';

/**
 * Security headers for every response. The CSP is what the built SPA needs and nothing more: its
 * own scripts, styles and API, images from itself or data: URLs (the QR code).
 */
export function securityHeaders(frameAncestors: string): RequestHandler {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
  return (_req, res, next) => {
    res.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
    });
    next();
  };
}

/** CORS for the listed origins only; with none listed, no CORS header is ever sent. */
export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    // Whenever CORS is on, every response depends on Origin, also the ones that allow none:
    // otherwise a shared cache could hand one origin's answer (with or without the allow header)
    // to another.
    if (allowed.size > 0) res.vary('Origin');
    const origin = req.get('origin');
    if (origin !== undefined && allowed.has(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE',
        'Access-Control-Allow-Headers':
          'Authorization, Content-Type, Last-Event-ID, Idempotency-Key',
        'Access-Control-Expose-Headers': 'Idempotent-Replayed, Retry-After',
        'Access-Control-Max-Age': '600',
      });
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
