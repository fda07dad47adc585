/**
 * Every path of the HTTP API, written once. `apiPaths` builds concrete paths (ids escaped);
 * `routePatterns` are the same paths with Express-style parameters, for the origin's router.
 * Every path ends in a slash: the API is a tree of collections.
 */

const seg = encodeURIComponent;

export const apiPaths = {
  admin: () => '/admin/',
  /** The whole database as one JSON document (admin). */
  backup: () => '/admin/backup/',
  /** Replaces the whole database with a backup (admin). */
  restore: () => '/admin/restore/',
  /** The API keys game servers submit scores with (admin): list, create. */
  apiKeys: () => '/admin/keys/',
  /** One API key (admin): DELETE revokes it. */
  apiKey: (keyId: string) => `/admin/keys/${seg(keyId)}/`,
  /** Liveness: the process serves. */
  health: () => '/healthz',
  /** Readiness: the data file is writable and publishes go through. */
  ready: () => '/readyz',
  boards: () => '/boards/',
  board: (boardId: string) => `/boards/${seg(boardId)}/`,
  recover: (boardId: string) => `/boards/${seg(boardId)}/recover/`,
  reset: (boardId: string) => `/boards/${seg(boardId)}/reset/`,
  /** The board's results to download (admin): `?format=csv` (the default) or `?format=json`. */
  boardExport: (boardId: string) => `/boards/${seg(boardId)}/export/`,
  /** The season under way and the past ones (boards with a reset schedule). */
  seasons: (boardId: string) => `/boards/${seg(boardId)}/seasons/`,
  /** A past season's final standings: `?from=&limit=`. */
  season: (boardId: string, number: number) => `/boards/${seg(boardId)}/seasons/${number}/`,
  players: (boardId: string) => `/boards/${seg(boardId)}/players/`,
  import: (boardId: string) => `/boards/${seg(boardId)}/import/`,
  player: (boardId: string, playerId: string) =>
    `/boards/${seg(boardId)}/players/${seg(playerId)}/`,
  scoreAdd: (boardId: string, playerId: string) =>
    `/boards/${seg(boardId)}/players/${seg(playerId)}/score-add/`,
  /** A score batch (admin or an API key for the board): POST. */
  scores: (boardId: string) => `/boards/${seg(boardId)}/scores/`,
} as const;

export const routePatterns = {
  admin: '/admin/',
  backup: '/admin/backup/',
  restore: '/admin/restore/',
  apiKeys: '/admin/keys/',
  apiKey: '/admin/keys/:keyId/',
  health: '/healthz',
  ready: '/readyz',
  boards: '/boards/',
  board: '/boards/:boardId/',
  recover: '/boards/:boardId/recover/',
  reset: '/boards/:boardId/reset/',
  boardExport: '/boards/:boardId/export/',
  seasons: '/boards/:boardId/seasons/',
  season: '/boards/:boardId/seasons/:season/',
  players: '/boards/:boardId/players/',
  import: '/boards/:boardId/import/',
  player: '/boards/:boardId/players/:playerId/',
  scoreAdd: '/boards/:boardId/players/:playerId/score-add/',
  scores: '/boards/:boardId/scores/',
} as const satisfies Record<keyof typeof apiPaths, string>;

/**
 * The recovery link of a stream that follows these pages (GRIP `Grip-Link: <...>; rel=next`).
 * The commas between pages are escaped (`%2C`): Pushpin splits a `Grip-Link` value on every comma,
 * even inside `<...>`, and refuses the whole hold ("failed to parse Grip-Link value", a 502 to the
 * client). The query reads the same once decoded.
 */
export function recoverLink(boardId: string, pages: readonly number[]): string {
  return `${apiPaths.recover(boardId)}?pages=${pages.join('%2C')}`;
}

const BOARD_PATH = /^\/boards\/([^/]+)\/$/;

/** The board id of a board's own path (`/boards/<id>/`, where streams are served), still escaped. */
export function boardIdOfPath(pathname: string): string | undefined {
  return BOARD_PATH.exec(pathname)?.[1];
}
