import type * as z from 'zod/mini';
import type { BoardSummary, BoardView, PlayerState } from '../../shared/board.ts';
import { boardListSchema, boardViewSchema, errorBodySchema, playerStateSchema } from './schema.ts';

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

/** The JSON API as the web app uses it. */
export interface Api {
  listBoards(signal?: AbortSignal): Promise<BoardSummary[]>;
  getBoard(boardId: string, signal?: AbortSignal): Promise<BoardView>;
  /** Gives a player one point, as anyone may. */
  addPoint(boardId: string, playerId: string): Promise<PlayerState>;
}

/** Paths of the API, shared by the fetch calls and the event stream. */
export const apiPaths = {
  boards: () => '/boards/',
  board: (boardId: string) => `/boards/${encodeURIComponent(boardId)}/`,
  scoreAdd: (boardId: string, playerId: string) =>
    `/boards/${encodeURIComponent(boardId)}/players/${encodeURIComponent(playerId)}/score-add/`,
};

/** An API client over the given `fetch` (the browser's by default). */
export function createApi(fetchImpl: typeof fetch = (...args) => fetch(...args)): Api {
  async function call<T>(
    path: string,
    schema: z.ZodMiniType<T>,
    init: RequestInit = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetchImpl(path, {
        ...init,
        headers: { Accept: 'application/json', ...init.headers },
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError(0, 'network', 'Could not reach the server. Check your connection.');
    }
    const body = await readJson(response);
    if (!response.ok) throw errorFrom(response, body);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ApiError(
        response.status,
        'bad_response',
        'The server sent an answer we cannot read.',
      );
    }
    return parsed.data;
  }

  return {
    listBoards: async (signal) =>
      (await call(apiPaths.boards(), boardListSchema, { signal })).boards,
    getBoard: (boardId, signal) => call(apiPaths.board(boardId), boardViewSchema, { signal }),
    addPoint: (boardId, playerId) =>
      call(apiPaths.scoreAdd(boardId, playerId), playerStateSchema, { method: 'POST' }),
  };
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
