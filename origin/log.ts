import { type DestinationStream, type Logger, pino } from 'pino';
import { ConfigError, type LogFormat, type LogLevel } from './config.ts';

export type { Logger } from 'pino';

/**
 * Where secrets could reach a log line: request headers that carry credentials (the admin token,
 * a publish token, the proxy's signature, cookies) and cookies set on the way out. Each is
 * replaced by `[Redacted]`, so a line still shows that it was there.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["grip-sig"]',
  'req.headers["fastly-key"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/**
 * The origin's logger: JSON lines (one object per line, ISO times) with secrets redacted.
 * `destination` is stdout unless given (tests pass a stream that keeps the lines).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    name: 'origin',
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * Where lines go in a format: stdout as JSON, or through pino-pretty for people at a terminal.
 * pino-pretty is a dev dependency, loaded only when asked for: a production install without it
 * still starts with JSON logs.
 */
export async function logDestination(format: LogFormat): Promise<DestinationStream | undefined> {
  if (format === 'json') return undefined;
  let pretty: typeof import('pino-pretty');
  try {
    pretty = (await import('pino-pretty')).default;
  } catch {
    throw new ConfigError(
      'LOG_FORMAT=pretty needs pino-pretty, a dev dependency: install the dev dependencies ' +
        '(npm ci) or leave LOG_FORMAT unset for JSON lines.',
    );
  }
  return pretty({
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,req,res,responseTime,reqId',
    messageFormat: prettyMessage,
  });
}

/** A line as text, a request's in one line: `GET /boards/ 200 3 ms [request id]`. */
export function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const id = typeof log.reqId === 'string' ? ` [${log.reqId}]` : '';
  const { req, res } = log;
  if (isRecord(req) && isRecord(res)) {
    return `${req.method} ${req.url} ${res.statusCode} ${log.responseTime} ms${id}`;
  }
  return `${String(log[messageKey] ?? '')}${id}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
