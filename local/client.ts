import type * as z from 'zod/mini';
import {
  type BoardSummary,
  type BoardView,
  boardListSchema,
  boardViewSchema,
  type Order,
  type RankedPlayer,
  rankedPlayerSchema,
} from '../contract/board.ts';
import { apiPaths } from '../contract/paths.ts';
import type { UpdatePlayerBody } from '../contract/requests.ts';

/** A raw answer: for callers that check statuses and error bodies. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown;
  text: string;
}

export interface RequestOptions {
  /** Send the admin token (default: only where the API requires it). */
  admin?: boolean | undefined;
  body?: unknown;
  headers?: Record<string, string> | undefined;
}

/**
 * Which players of a board to fetch: `limit` rows (the API's default is 100) from position `from`
 * (0, the top, by default), or around one player.
 */
export interface BoardWindow {
  limit?: number | undefined;
  from?: number | undefined;
  around?: string | undefined;
}

/**
 * The board API for tools (tests, bench, screenshots), through Pushpin, the edge or straight to
 * the origin. Paths come from contract/paths.ts and every answer is checked against the contract's
 * schemas, so a tool never trusts a shape it did not check.
 */
export interface Client {
  /** Any request, answered as it comes (relative paths resolve against the base URL). */
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  listBoards(): Promise<BoardSummary[]>;
  createBoard(name: string, order?: Order): Promise<BoardView>;
  getBoard(boardId: string, window?: BoardWindow): Promise<BoardView>;
  deleteBoard(boardId: string): Promise<void>;
  addPlayer(boardId: string, name: string): Promise<RankedPlayer>;
  getPlayer(boardId: string, playerId: string): Promise<RankedPlayer>;
  updatePlayer(boardId: string, playerId: string, patch: UpdatePlayerBody): Promise<RankedPlayer>;
  removePlayer(boardId: string, playerId: string): Promise<void>;
  /** `+1` as anyone; another amount goes with the admin token. */
  scoreAdd(boardId: string, playerId: string, amount?: number): Promise<RankedPlayer>;
  resetBoard(boardId: string): Promise<BoardView>;
}

/** Thrown by the typed calls when the API answers with another status or another shape. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly response: ApiResponse,
    what: string,
  ) {
    super(`${what} -> ${response.status}: ${response.text.slice(0, 500)}`);
  }
}

/** A client of the API at `baseUrl`; `adminToken` is needed for the admin calls. */
export function createClient(baseUrl: string, adminToken?: string): Client {
  async function request(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (options.admin) {
      if (adminToken === undefined) throw new Error('this client has no admin token');
      headers.Authorization = `Bearer ${adminToken}`;
    }
    let body: string | null = null;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(new URL(path, baseUrl), { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  // A typed call: the expected status, and the schema its body must fit.
  async function call<T>(
    expected: { status: number; schema: z.ZodMiniType<T> },
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<T> {
    const response = await request(method, path, options);
    const what = `${method} ${path}`;
    if (response.status !== expected.status) throw new ApiError(response, what);
    const parsed = expected.schema.safeParse(response.body);
    if (!parsed.success) {
      throw new ApiError(response, `${what} answered a body the contract does not describe`);
    }
    return parsed.data;
  }

  async function callEmpty(method: string, path: string, options?: RequestOptions): Promise<void> {
    const response = await request(method, path, options);
    if (response.status !== 204) throw new ApiError(response, `${method} ${path}`);
  }

  const board = { status: 200, schema: boardViewSchema };
  const player = { status: 200, schema: rankedPlayerSchema };

  return {
    request,
    listBoards: async () =>
      (await call({ status: 200, schema: boardListSchema }, 'GET', apiPaths.boards())).boards,
    createBoard: (name, order) =>
      call({ ...board, status: 201 }, 'POST', apiPaths.boards(), {
        admin: true,
        body: order === undefined ? { name } : { name, order },
      }),
    getBoard: (boardId, window = {}) => {
      const query = new URLSearchParams();
      if (window.limit !== undefined) query.set('limit', String(window.limit));
      if (window.from !== undefined) query.set('from', String(window.from));
      if (window.around !== undefined) query.set('around', window.around);
      const search = query.size > 0 ? `?${query}` : '';
      return call(board, 'GET', `${apiPaths.board(boardId)}${search}`);
    },
    deleteBoard: (boardId) => callEmpty('DELETE', apiPaths.board(boardId), { admin: true }),
    addPlayer: (boardId, name) =>
      call({ ...player, status: 201 }, 'POST', apiPaths.players(boardId), {
        admin: true,
        body: { name },
      }),
    getPlayer: (boardId, playerId) => call(player, 'GET', apiPaths.player(boardId, playerId)),
    updatePlayer: (boardId, playerId, patch) =>
      call(player, 'PATCH', apiPaths.player(boardId, playerId), { admin: true, body: patch }),
    removePlayer: (boardId, playerId) =>
      callEmpty('DELETE', apiPaths.player(boardId, playerId), { admin: true }),
    scoreAdd: (boardId, playerId, amount = 1) =>
      call(player, 'POST', apiPaths.scoreAdd(boardId, playerId), {
        admin: amount !== 1,
        body: { amount },
      }),
    resetBoard: (boardId) => call(board, 'POST', apiPaths.reset(boardId), { admin: true }),
  };
}
