import type { BoardSummary, BoardView, Order, RankedPlayer } from '../contract/board.ts';

/** A raw answer: for tests that check statuses and error bodies. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown;
  text: string;
}

export interface RequestOptions {
  /** Send the admin token (default: only where the API requires it). */
  admin?: boolean;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Typed calls to the board API (through Pushpin or straight to the origin). */
export interface Client {
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  listBoards(): Promise<BoardSummary[]>;
  createBoard(name: string, order?: Order): Promise<BoardView>;
  getBoard(boardId: string, query?: { limit?: number; around?: string }): Promise<BoardView>;
  deleteBoard(boardId: string): Promise<void>;
  addPlayer(boardId: string, name: string): Promise<RankedPlayer>;
  getPlayer(boardId: string, playerId: string): Promise<RankedPlayer>;
  updatePlayer(
    boardId: string,
    playerId: string,
    patch: { name?: string; score?: number },
  ): Promise<RankedPlayer>;
  removePlayer(boardId: string, playerId: string): Promise<void>;
  /** `+1` as anyone; another amount goes with the admin token. */
  scoreAdd(boardId: string, playerId: string, amount?: number): Promise<RankedPlayer>;
  resetBoard(boardId: string): Promise<BoardView>;
}

/** Thrown by the typed calls when the API answers with an unexpected status. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly response: ApiResponse,
    what: string,
  ) {
    super(`${what} -> ${response.status}: ${response.text.slice(0, 500)}`);
  }
}

export function createClient(baseUrl: string, adminToken?: string): Client {
  async function request(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (options.admin) {
      if (adminToken === undefined) throw new Error('this Api has no admin token');
      headers.Authorization = `Bearer ${adminToken}`;
    }
    let body: string | undefined;
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

  // The API is ours and typed in shared/board.ts; these helpers trust its shapes, the tests check
  // the values.
  async function call<T>(
    status: number,
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<T> {
    const response = await request(method, path, options);
    if (response.status !== status) throw new ApiError(response, `${method} ${path}`);
    return response.body as T;
  }

  const board = (id: string) => `boards/${encodeURIComponent(id)}/`;
  const player = (id: string, pid: string) => `${board(id)}players/${encodeURIComponent(pid)}/`;

  return {
    request,
    listBoards: async () => (await call<{ boards: BoardSummary[] }>(200, 'GET', 'boards/')).boards,
    createBoard: (name, order) =>
      call(201, 'POST', 'boards/', { admin: true, body: order ? { name, order } : { name } }),
    getBoard: (id, query = {}) => {
      const params = new URLSearchParams();
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      if (query.around !== undefined) params.set('around', query.around);
      const search = params.size > 0 ? `?${params}` : '';
      return call(200, 'GET', `${board(id)}${search}`);
    },
    deleteBoard: (id) => call(204, 'DELETE', board(id), { admin: true }),
    addPlayer: (id, name) =>
      call(201, 'POST', `${board(id)}players/`, { admin: true, body: { name } }),
    getPlayer: (id, pid) => call(200, 'GET', player(id, pid)),
    updatePlayer: (id, pid, patch) =>
      call(200, 'PATCH', player(id, pid), { admin: true, body: patch }),
    removePlayer: (id, pid) => call(204, 'DELETE', player(id, pid), { admin: true }),
    scoreAdd: (id, pid, amount = 1) =>
      call(200, 'POST', `${player(id, pid)}score-add/`, {
        admin: amount !== 1,
        body: { amount },
      }),
    resetBoard: (id) => call(200, 'POST', `${board(id)}reset/`, { admin: true }),
  };
}
