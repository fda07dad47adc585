import type * as z from 'zod/mini';
import {
  type BoardSummary,
  type BoardView,
  boardListSchema,
  boardViewSchema,
  errorBodySchema,
  type PlayerState,
  playerListSchema,
  playerStateSchema,
  type RankedPlayer,
  rankedPlayerSchema,
  type ScheduleBody,
} from '../../../contract/board.ts';
import type { ExportFormat } from '../../../contract/export.ts';
import { apiPaths } from '../../../contract/paths.ts';
import type { CreateBoardBody, UpdatePlayerBody } from '../../../contract/requests.ts';
import {
  type ApiKey,
  apiKeyListSchema,
  type CreateApiKeyBody,
  type CreatedApiKey,
  createdApiKeySchema,
  type SeasonList,
  type SeasonView,
  seasonListSchema,
  seasonViewSchema,
} from '../../../contract/scores.ts';

/** Every failure of a call to the API: an HTTP error, an unreadable answer, or no answer at all. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** The HTTP status, or 0 when the server could not be reached. */
    readonly status: number,
    /** The server's `error.code`, or one of ours: `network`, `bad_response`. */
    readonly code: string,
    message: string,
    /** Seconds the server asked us to wait (`Retry-After`), when it did. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** A file the server sent to be saved: its content and the name it suggested. */
export interface Download {
  blob: Blob;
  fileName: string;
}

/** What only the holder of the admin token may do (`Authorization: Bearer <token>`). */
export interface AdminApi {
  /**
   * Resolves when the server takes the token, fails with its 403 when it does not. Changes
   * nothing: `GET /admin/` only checks the token.
   */
  checkToken(): Promise<void>;
  /** Makes a board: `order` and `operator` as the API defaults them, a reset `schedule` if given. */
  createBoard(body: CreateBoardBody): Promise<BoardView>;
  /** Sets the board's reset schedule, or removes it (`null`); answers the top of the board. */
  setSchedule(boardId: string, schedule: ScheduleBody | null): Promise<BoardView>;
  deleteBoard(boardId: string): Promise<void>;
  resetBoard(boardId: string): Promise<BoardView>;
  addPlayer(boardId: string, name: string): Promise<RankedPlayer>;
  updatePlayer(boardId: string, playerId: string, patch: UpdatePlayerBody): Promise<RankedPlayer>;
  removePlayer(boardId: string, playerId: string): Promise<void>;
  /**
   * The board's results as a file, CSV or JSON (`GET /boards/:id/export/`), named as the server's
   * `Content-Disposition` says, else `<boardId>.<format>`.
   */
  exportBoard(boardId: string, format: ExportFormat): Promise<Download>;
  /** The game servers' API keys, never with their secrets. */
  listKeys(): Promise<ApiKey[]>;
  /** Makes a key: the answer holds its token, shown this once. */
  createKey(body: CreateApiKeyBody): Promise<CreatedApiKey>;
  revokeKey(keyId: string): Promise<void>;
}

/**
 * Which rows of a board to read: `limit` rows from position `from`, or `limit` rows around a
 * player (`around`). `v` names the version a client reloads for after a `reload` event.
 */
export interface BoardWindowQuery {
  limit?: number | undefined;
  from?: number | undefined;
  around?: string | undefined;
  v?: number | undefined;
}

/** A board's path with a window's query (`/boards/demo/?limit=25&from=100`): JSON or stream. */
export function boardPath(boardId: string, window: BoardWindowQuery = {}): string {
  const query = new URLSearchParams();
  if (window.limit !== undefined) query.set('limit', String(window.limit));
  if (window.from !== undefined && window.from > 0) query.set('from', String(window.from));
  if (window.around !== undefined) query.set('around', window.around);
  if (window.v !== undefined) query.set('v', String(window.v));
  return query.size === 0 ? apiPaths.board(boardId) : `${apiPaths.board(boardId)}?${query}`;
}

/** The JSON API as the web app uses it. */
export interface Api {
  listBoards(signal?: AbortSignal): Promise<BoardSummary[]>;
  /** A window of the board: `players` are the rows from position `offset` on. */
  getBoard(boardId: string, window?: BoardWindowQuery, signal?: AbortSignal): Promise<BoardView>;
  /** Players whose names start with `prefix` (any case), each with its rank. */
  searchPlayers(
    boardId: string,
    prefix: string,
    options?: { limit?: number; signal?: AbortSignal },
  ): Promise<RankedPlayer[]>;
  /** Gives a player one point, as anyone may. */
  addPoint(boardId: string, playerId: string): Promise<PlayerState>;
  /** The season under way (boards with a reset schedule) and the past ones, newest first. */
  listSeasons(boardId: string, signal?: AbortSignal): Promise<SeasonList>;
  /** `limit` rows of past season `number`'s final standings from position `from`. */
  getSeason(
    boardId: string,
    number: number,
    window: { from: number; limit: number },
    signal?: AbortSignal,
  ): Promise<SeasonView>;
  /** The admin calls, made with `token`. */
  admin(token: string): AdminApi;
}

interface Answer {
  status: number;
  body: unknown;
}

interface CallOptions {
  method?: string;
  body?: unknown;
  token?: string;
  signal?: AbortSignal | undefined;
  /** What to ask for; errors come as JSON whatever is asked. */
  accept?: string;
  /** Sent as `Idempotency-Key`: a retry of the same write counts once. */
  idempotencyKey?: string;
}

const MEDIA_TYPES: Record<ExportFormat, string> = { csv: 'text/csv', json: 'application/json' };

/** What the client takes besides `fetch`: tests give their own. */
export interface ApiOptions {
  /** A fresh `Idempotency-Key` (a UUID by default). */
  newKey?: () => string;
  /** Waits `ms` before a retry. */
  wait?: (ms: number) => Promise<void>;
}

/** The pauses before each retry of a write that did not reach the server (then it gives up). */
export const RETRY_DELAYS_MS = [250, 750, 2_000];

/**
 * Runs a write again, after each of RETRY_DELAYS_MS, while it fails without an answer from the
 * API (no connection, or a proxy's 502/503/504); never after the API refused it (4xx, 500). The
 * write must carry an `Idempotency-Key`, so that a try that did reach the server counts once.
 */
export async function retried<T>(
  attempt: () => Promise<T>,
  wait: (ms: number) => Promise<void>,
): Promise<T> {
  for (const delay of RETRY_DELAYS_MS) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ApiError && RETRYABLE.has(error.status))) throw error;
      await wait(delay);
    }
  }
  return attempt();
}

const RETRYABLE = new Set([0, 502, 503, 504]);

/** A random UUID; outside a secure context (plain http) `randomUUID` is missing: 32 hex digits. */
function randomKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** An API client over the given `fetch` (the browser's by default). */
export function createApi(
  fetchImpl: typeof fetch = (...args) => fetch(...args),
  options: ApiOptions = {},
): Api {
  const newKey = options.newKey ?? randomKey;
  const wait =
    options.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  /** The server's answer when it is a success; its error, or ours, as an `ApiError` otherwise. */
  async function respond(path: string, options: CallOptions): Promise<Response> {
    let response: Response;
    try {
      response = await fetchImpl(path, {
        method: options.method ?? 'GET',
        headers: headersFor(options),
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ?? null,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw unreachable();
    }
    if (!response.ok) throw errorFrom(response, await readJson(response));
    return response;
  }

  async function send(path: string, options: CallOptions): Promise<Answer> {
    const response = await respond(path, options);
    return { status: response.status, body: await readJson(response) };
  }

  async function call<T>(path: string, schema: z.ZodMiniType<T>, options: CallOptions = {}) {
    const { status, body } = await send(path, options);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ApiError(status, 'bad_response', 'The server sent an answer we cannot read.');
    }
    return parsed.data;
  }

  const admin = (token: string): AdminApi => ({
    async checkToken() {
      await send(apiPaths.admin(), { token });
    },
    createBoard: (body) =>
      call(apiPaths.boards(), boardViewSchema, { method: 'POST', body, token }),
    setSchedule: (boardId, schedule) =>
      call(apiPaths.board(boardId), boardViewSchema, {
        method: 'PATCH',
        body: { schedule },
        token,
      }),
    deleteBoard: async (boardId) => {
      await send(apiPaths.board(boardId), { method: 'DELETE', token });
    },
    resetBoard: (boardId) =>
      call(apiPaths.reset(boardId), boardViewSchema, { method: 'POST', token }),
    addPlayer: (boardId, name) =>
      call(apiPaths.players(boardId), rankedPlayerSchema, {
        method: 'POST',
        body: { name },
        token,
      }),
    updatePlayer: (boardId, playerId, patch) =>
      call(apiPaths.player(boardId, playerId), rankedPlayerSchema, {
        method: 'PATCH',
        body: patch,
        token,
      }),
    removePlayer: async (boardId, playerId) => {
      await send(apiPaths.player(boardId, playerId), { method: 'DELETE', token });
    },
    exportBoard: async (boardId, format) => {
      const query = new URLSearchParams({ format });
      const response = await respond(`${apiPaths.boardExport(boardId)}?${query}`, {
        token,
        accept: `${MEDIA_TYPES[format]}, application/json;q=0.5`,
      });
      let blob: Blob;
      try {
        blob = await response.blob();
      } catch {
        throw unreachable();
      }
      const suggested = fileNameOf(response.headers.get('Content-Disposition'));
      return { blob, fileName: suggested ?? `${boardId}.${format}` };
    },
    listKeys: async () => (await call(apiPaths.apiKeys(), apiKeyListSchema, { token })).keys,
    createKey: (body) =>
      call(apiPaths.apiKeys(), createdApiKeySchema, { method: 'POST', body, token }),
    revokeKey: async (keyId) => {
      await send(apiPaths.apiKey(keyId), { method: 'DELETE', token });
    },
  });

  return {
    listBoards: async (signal) =>
      (await call(apiPaths.boards(), boardListSchema, { signal })).boards,
    getBoard: (boardId, window, signal) =>
      call(boardPath(boardId, window), boardViewSchema, { signal }),
    searchPlayers: async (boardId, prefix, { limit = 10, signal } = {}) => {
      const query = new URLSearchParams({ q: prefix, limit: String(limit) });
      const path = `${apiPaths.players(boardId)}?${query}`;
      return (await call(path, playerListSchema, { signal })).players;
    },
    addPoint: (boardId, playerId) => {
      // One key per click: every retry of this click carries it, so the click counts once.
      const idempotencyKey = newKey();
      const path = apiPaths.scoreAdd(boardId, playerId);
      return retried(() => call(path, playerStateSchema, { method: 'POST', idempotencyKey }), wait);
    },
    listSeasons: (boardId, signal) => call(apiPaths.seasons(boardId), seasonListSchema, { signal }),
    getSeason: (boardId, number, { from, limit }, signal) => {
      const query = new URLSearchParams({ from: String(from), limit: String(limit) });
      const path = `${apiPaths.season(boardId, number)}?${query}`;
      return call(path, seasonViewSchema, { signal });
    },
    admin,
  };
}

/** An error as a sentence for the page: the server's message, capitalised and stopped. */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const sentence = message.charAt(0).toLocaleUpperCase() + message.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/**
 * The file name a `Content-Disposition` header suggests (RFC 6266: `filename*` before `filename`),
 * without any folder in it; undefined when it suggests none.
 */
export function fileNameOf(header: string | null): string | undefined {
  if (header === null) return undefined;
  const extended = /\bfilename\*\s*=\s*UTF-8'[^']*'([^;\s]+)/i.exec(header)?.[1];
  const plain = /\bfilename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  const name =
    (extended === undefined ? undefined : decoded(extended)) ??
    plain?.[1]?.replace(/\\(.)/g, '$1') ??
    plain?.[2];
  const base = name?.split(/[/\\]/).at(-1)?.trim();
  return base === undefined || base === '' ? undefined : base;
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function headersFor({ accept, token, body, idempotencyKey }: CallOptions): Record<string, string> {
  const headers: Record<string, string> = { Accept: accept ?? 'application/json' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return headers;
}

function unreachable(): ApiError {
  return new ApiError(0, 'network', 'Could not reach the server. Check your connection.');
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorFrom(response: Response, body: unknown): ApiError {
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  const parsed = errorBodySchema.safeParse(body);
  if (parsed.success) {
    const { code, message } = parsed.data.error;
    return new ApiError(response.status, code, message, retryAfter);
  }
  const reason = response.statusText || 'Request failed';
  return new ApiError(response.status, `http_${response.status}`, reason, retryAfter);
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
