import { Cluster, type Redis } from 'ioredis';
import * as z from 'zod/mini';
import {
  type BoardSummary,
  type BoardView,
  boardViewSchema,
  type RankedPlayer,
  type ScoreOperator,
} from '../../../contract/board.ts';
import { boardChannel, pageChannel } from '../../../contract/events.ts';
import type { ImportRow } from '../../../contract/requests.ts';
import type {
  ScoreBatchResult,
  ScoreEntry,
  SeasonList,
  SeasonSummary,
  SeasonView,
} from '../../../contract/scores.ts';
import type {
  BoardRecord,
  Database,
  ImportProblem,
  Limits,
  NewBoard,
  NewId,
  ViewOptions,
} from '../../domain/board.ts';
import { foldName } from '../../domain/board-index.ts';
import { BoardError, idempotencyKeyReused } from '../../domain/errors.ts';
import { IDEMPOTENCY_TTL_MS, replayOf } from '../../domain/idempotency.ts';
import type { Schedule } from '../../domain/schedule.ts';
import {
  rollsAt,
  type ScheduledBoard,
  type SeasonRecord,
  seasonInfoOf,
} from '../../domain/seasons.ts';
import type {
  BoardStore,
  HeldChannel,
  ImportCounts,
  PagesSnapshot,
  PlayerPatch,
  StoreHealth,
  StreamSnapshot,
} from '../board-store.ts';
import {
  type AnswerShelf,
  type IdempotentOutcome,
  type IdempotentRequest,
  idempotencyContext,
  runAfter,
  runIdempotent,
} from '../idempotency.ts';
import {
  boardErrorOf,
  type RefusalContext,
  refusalOf,
  StoreUnavailableError,
  storeError,
} from './errors.ts';
import { idempotentCall, keptRecord, outsideAnswerKey, unwrapIdempotent } from './idempotency.ts';
import {
  boardKeys,
  boardTag,
  DELETED_KEYS_TTL_S,
  keySlot,
  REGISTRY_KEY,
  restoreKeys,
  restoreSeasonKeys,
  scriptKeys,
  seasonKeys,
} from './keys.ts';
import { ReplyReader } from './replies.ts';
import { batchArgs, freshIds, readBatchReply } from './score-batch.ts';
import { IDEMPOTENT_SCRIPTS, SCRIPTS, type ScriptName } from './scripts.ts';
import { SEASON_SCRIPTS } from './season-scripts.ts';
import {
  readSeason,
  SEASON_FIELDS,
  type StoredSeason,
  scheduledOf,
  scheduleJson,
  seasonListOf,
  seasonOfMeta,
  seasonViewOf,
  storedSeasonOf,
} from './seasons.ts';

type AnyScript = ScriptName | keyof typeof SEASON_SCRIPTS;

/** Rows one import script adds, and players one restore script loads. */
export const REDIS_BATCH = 10_000;

/** Rows one script reads of a long window (an export of a large board). */
export const VIEW_CHUNK = 10_000;

/** Tries of fresh ids before a change gives up (`id_exhausted`), as the embedded store does. */
const ID_ATTEMPTS = 8;

export interface RedisStoreOptions {
  newId: NewId;
  limits: Limits;
  /** Replicas that must hold a write before it resolves (WAIT); 0 does not wait. */
  waitReplicas?: number | undefined;
  /** How long a write waits for them (WAIT's timeout). */
  waitTimeoutMs?: number | undefined;
  /** Rows one script reads of a long window (default VIEW_CHUNK). */
  viewChunk?: number | undefined;
  /** The clock kept answers are dated by (milliseconds; default Date.now). */
  clock?: (() => number) | undefined;
}

/** The players of the demo board a fresh install starts with (as `seedDatabase`). */
const DEMO_PLAYERS = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken'];

/**
 * Boards in Redis, one node or a Cluster (see keys.ts for the layout): every read that must be
 * at one version and every change is one Lua script in the board's slot (scripts.ts), so any
 * number of origins can share the boards. A change resolves once Redis answered it and, when
 * `waitReplicas` asks, once that many replicas acknowledged it (else StoreUnavailableError).
 */
export class RedisBoardStore implements BoardStore {
  readonly kind = 'redis';
  private readonly newId: NewId;
  private readonly limits: Limits;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private readonly viewChunk: number;
  private readonly now: () => number;

  constructor(
    private readonly client: Redis | Cluster,
    options: RedisStoreOptions,
  ) {
    this.newId = options.newId;
    this.limits = options.limits;
    this.waitReplicas = options.waitReplicas ?? 0;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 1_000;
    this.viewChunk = options.viewChunk ?? VIEW_CHUNK;
    this.now = options.clock ?? Date.now;
    for (const [name, definition] of Object.entries({ ...SCRIPTS, ...SEASON_SCRIPTS })) {
      if (!Reflect.has(client, name)) client.defineCommand(name, definition);
    }
  }

  health(): StoreHealth {
    const status = this.client.status;
    return status === 'ready'
      ? { ok: true }
      : { ok: false, reason: `Redis connection is ${status}` };
  }

  // Reads.

  async listBoards(): Promise<BoardSummary[]> {
    const ids = await this.boardIds();
    const boards = await this.redis(() =>
      Promise.all(
        ids.map(async (id) => {
          const keys = boardKeys(id);
          const [[name, order, operator, ...season], playerCount] = await Promise.all([
            this.client.hmget(keys.meta, 'name', 'order', 'operator', ...SEASON_FIELDS),
            this.client.zcard(keys.rank),
          ]);
          if (name === null || name === undefined) return undefined;
          const summary: BoardSummary = {
            id,
            name,
            order: order === 'asc' ? 'asc' : 'desc',
            operator: operatorOf(operator),
            playerCount,
            ...seasonOfMeta(id, season),
          };
          return summary;
        }),
      ),
    );
    return boards.filter((board) => board !== undefined);
  }

  async counts(): Promise<{ boards: number; players: number }> {
    const ids = await this.boardIds();
    const sizes = await this.redis(() =>
      Promise.all(ids.map((id) => this.client.zcard(boardKeys(id).rank))),
    );
    return { boards: ids.length, players: sizes.reduce((sum, size) => sum + size, 0) };
  }

  async boardView(boardId: string, options: ViewOptions): Promise<BoardView> {
    const { from = 0, limit, around } = options;
    if (around !== undefined) {
      return (await this.viewPart(boardId, [from, limit ?? '', around, '', ''])).view;
    }
    // A long window (a whole board, for an export) is read `viewChunk` rows per script, so Redis
    // never stalls on one; all at the first piece's version, or again from the start.
    for (let attempt = 0; attempt < 3; attempt++) {
      const read = await this.viewInPieces(boardId, from, limit);
      if (read !== undefined) return read.view;
    }
    return (await this.viewPart(boardId, [from, limit ?? '', '', '', ''])).view;
  }

  async playerView(boardId: string, playerId: string): Promise<RankedPlayer> {
    return new ReplyReader(await this.run('lbPlayer', boardId, [playerId])).row();
  }

  async requireBoard(boardId: string): Promise<void> {
    await this.run('lbProbe', boardId, ['']);
  }

  async requirePlayer(boardId: string, playerId: string): Promise<void> {
    await this.run('lbProbe', boardId, [playerId]);
  }

  async positionOf(boardId: string, playerId: string): Promise<number | undefined> {
    const position = await this.run('lbPosition', boardId, [playerId]);
    return typeof position === 'number' && position >= 0 ? position : undefined;
  }

  async searchPlayers(boardId: string, prefix: string, limit: number): Promise<RankedPlayer[]> {
    const reply = await this.run('lbSearch', boardId, [foldName(prefix), limit]);
    return new ReplyReader(reply).rows();
  }

  async pages(boardId: string, pages: readonly number[]): Promise<PagesSnapshot | undefined> {
    const reply = await this.run('lbPages', boardId, ['0', pages.length, ...pages]);
    if (reply === null) return undefined;
    return readPages(boardId, pages, new ReplyReader(reply)).snapshot;
  }

  async streamSnapshot(
    boardId: string,
    pages: readonly number[],
  ): Promise<StreamSnapshot | undefined> {
    const channels = channelsOf(boardId, pages);
    const reply = await this.run('lbPages', boardId, ['1', pages.length, ...pages, ...channels]);
    if (reply === null) return undefined;
    const { snapshot, ids } = readPages(boardId, pages, new ReplyReader(reply));
    return { ...snapshot, held: heldOf(channels, ids) };
  }

  async heldChannels(boardId: string, pages: readonly number[]): Promise<HeldChannel[]> {
    const channels = channelsOf(boardId, pages);
    const reader = new ReplyReader(await this.run('lbHeld', boardId, channels));
    return heldOf(
      channels,
      channels.map(() => reader.number()),
    );
  }

  async dump(): Promise<Database> {
    const db: Database = { boards: {} };
    for (const id of await this.boardIds()) {
      const dumped = await this.dumpBoard(id).catch((error: unknown) => {
        if (error instanceof BoardError && error.kind === 'board_not_found') return undefined;
        throw error;
      });
      if (dumped === undefined) continue;
      db.boards[id] = dumped.board;
      if (dumped.seasons.length > 0) db.seasons = { ...db.seasons, [id]: dumped.seasons };
    }
    return db;
  }

  async versions(): Promise<Map<string, number>> {
    const ids = await this.boardIds();
    const versions = await this.redis(() =>
      Promise.all(ids.map((id) => this.client.hget(boardKeys(id).meta, 'version'))),
    );
    const out = new Map<string, number>();
    ids.forEach((id, i) => {
      const version = versions[i];
      if (typeof version === 'string') out.set(id, Number(version));
    });
    return out;
  }

  // Writes.

  /**
   * An idempotent request keeps its answer under `{idem}:<sha>` after the board is made: not
   * atomic with it (see idempotency.ts).
   */
  async createBoard(input: NewBoard, now: Date): Promise<BoardView> {
    const retry = idempotencyContext.getStore();
    if (retry === undefined || retry.kept === true) return this.makeBoard(input, now);
    const { request } = retry;
    const shelf = this.answerShelf(request.status);
    const verdict = replayOf(await shelf.get(retry.id), request.fingerprint, this.now());
    if (verdict.kind === 'conflict') throw idempotencyKeyReused();
    if (verdict.kind === 'replay') {
      retry.replayed = true;
      retry.kept = true;
      return z.parse(boardViewSchema, JSON.parse(verdict.body));
    }
    const view = await this.makeBoard(input, now);
    retry.kept = true;
    const { fingerprint, status } = request;
    const body = JSON.stringify(view);
    await shelf.put(retry.id, { key: retry.id, fingerprint, status, body, createdAt: this.now() });
    return view;
  }

  idempotent<T>(request: IdempotentRequest, run: () => Promise<T>): Promise<IdempotentOutcome<T>> {
    return runIdempotent(request, run);
  }

  /** Kept under `{idem}:<sha>` once the write is done (store/idempotency.ts `runAfter`). */
  idempotentAfter<T>(
    request: IdempotentRequest,
    run: () => Promise<T>,
  ): Promise<IdempotentOutcome<T>> {
    return runAfter(this.answerShelf(request.status), request, run, () => this.now());
  }

  /** Answers kept outside any board's slot, under `{idem}:<sha>`, for 24 hours. */
  private answerShelf(status: number): AnswerShelf {
    return {
      get: async (id) => {
        const kept = await this.redis(() => this.client.get(outsideAnswerKey(id)));
        return kept === null ? undefined : keptRecord(id, status, kept);
      },
      put: async (id, record) => {
        const value = JSON.stringify({ ...record, key: undefined });
        await this.redis(() =>
          this.client.set(outsideAnswerKey(id), value, 'PX', IDEMPOTENCY_TTL_MS),
        );
      },
    };
  }

  private async makeBoard(input: NewBoard, now: Date): Promise<BoardView> {
    // Not atomic with the board's script (the registry has a slot of its own): two origins
    // creating at once may both pass this check.
    const count = await this.redis(() => this.client.zcard(REGISTRY_KEY));
    if (count >= this.limits.maxBoards) {
      throw boardErrorOf({ kind: 'limit_reached', rows: [] }, this.refusal({ boards: true }));
    }
    const createdAt = now.toISOString();
    const operator = input.operator ?? 'incr';
    const id = await this.withFreshId(async (id) => {
      const schedule = input.schedule === undefined ? '' : scheduleJson(input.schedule);
      await this.run('lbCreateBoard', id, [input.name, input.order, createdAt, operator, schedule]);
      return id;
    });
    await this.register('keep', [id]);
    await this.durable(id);
    const { name, order } = input;
    const season =
      input.schedule === undefined
        ? {}
        : { season: seasonInfoOf(input.schedule, { number: 1, startedAt: createdAt }) };
    const view = { id, name, order, operator, ...season, version: 0, playerCount: 0, offset: 0 };
    return { ...view, players: [] };
  }

  async deleteBoard(boardId: string): Promise<void> {
    const keys = [...scriptKeys(boardId), boardKeys(boardId).lease, boardKeys(boardId).seasons];
    await this.runWith('lbDeleteBoard', keys, [DELETED_KEYS_TTL_S]);
    await this.redis(() => this.client.zrem(REGISTRY_KEY, boardId));
    await this.durable(boardId);
    await this.durableKey(REGISTRY_KEY);
  }

  async resetBoard(boardId: string, limit: number): Promise<BoardView> {
    const reply = await this.run('lbReset', boardId, [limit]);
    await this.durable(boardId);
    return readView(boardId, new ReplyReader(reply)).view;
  }

  async addPlayer(boardId: string, name: string): Promise<RankedPlayer> {
    const folded = foldName(name);
    const player = await this.withFreshId(async (id) => {
      const args = [id, name, folded, this.limits.maxPlayersPerBoard];
      return new ReplyReader(await this.run('lbAddPlayer', boardId, args, { name })).row();
    });
    await this.durable(boardId);
    return player;
  }

  async updatePlayer(boardId: string, playerId: string, patch: PlayerPatch): Promise<RankedPlayer> {
    const { name, score } = patch;
    const args = [
      playerId,
      name === undefined ? '0' : '1',
      name ?? '',
      name === undefined ? '' : foldName(name),
      score === undefined ? '0' : '1',
      score ?? 0,
    ];
    const reply = await this.run('lbUpdatePlayer', boardId, args, { name });
    await this.durable(boardId);
    return new ReplyReader(reply).row();
  }

  async removePlayer(boardId: string, playerId: string): Promise<void> {
    await this.run('lbRemovePlayer', boardId, [playerId]);
    await this.durable(boardId);
  }

  /**
   * One script checks and applies the batch (scripts.ts `lbScores`). Node reads which external
   * keys are on the board first, to give fresh ids to the players the batch creates; a key that
   * changed hands meanwhile (`stale`) or an id in use has Node look again.
   */
  async submitScores(boardId: string, entries: readonly ScoreEntry[]): Promise<ScoreBatchResult> {
    const keys = entries.flatMap((entry) => entry.externalKey ?? []);
    for (let attempt = 1; ; attempt++) {
      const owners =
        keys.length === 0
          ? []
          : await this.redis(() => this.client.hmget(boardKeys(boardId).ext, ...keys));
      const known = new Set(keys.filter((_, i) => owners[i] !== null));
      const ids = freshIds(entries, known, this.newId);
      const args = [this.limits.maxPlayersPerBoard, ...batchArgs(entries, ids)];
      try {
        const reply = await this.run('lbScores', boardId, args);
        await this.durable(boardId);
        return readBatchReply(reply, entries, this.limits);
      } catch (error) {
        if (!(error instanceof IdsTaken || error instanceof Stale) || attempt >= ID_ATTEMPTS) {
          throw unwrapIdsTaken(error);
        }
      }
    }
  }

  async addScore(boardId: string, playerId: string, amount: number): Promise<RankedPlayer> {
    const reply = await this.run('lbAddScore', boardId, [playerId, amount]);
    await this.durable(boardId);
    return new ReplyReader(reply).row();
  }

  async checkImport(
    boardId: string,
    rows: readonly ImportRow[],
    skipExisting: boolean,
  ): Promise<ImportProblem[]> {
    await this.requireBoard(boardId);
    const folded = rows.map((row) => foldName(row.name));
    const taken = await this.namesTaken(boardId, folded);
    const keys = boardKeys(boardId);
    const size = await this.redis(() => this.client.zcard(keys.rank));
    return importProblems(rows, folded, taken, size, this.limits, skipExisting);
  }

  async importPlayers(
    boardId: string,
    rows: readonly ImportRow[],
    _skipExisting: boolean,
  ): Promise<ImportCounts> {
    const counts = { added: 0, skipped: 0 };
    for (let start = 0; start < rows.length; start += REDIS_BATCH) {
      const done = await this.importBatch(boardId, rows.slice(start, start + REDIS_BATCH));
      counts.added += done.added;
      counts.skipped += done.skipped;
    }
    await this.durable(boardId);
    return counts;
  }

  async restore(db: Database): Promise<void> {
    const before = await this.boardIds();
    for (const board of Object.values(db.boards)) {
      const seasons = db.seasons !== undefined && Object.hasOwn(db.seasons, board.id);
      await this.restoreBoard(board, seasons ? db.seasons?.[board.id] : undefined);
    }
    await this.register('move', Object.keys(db.boards));
    for (const id of before) {
      if (Object.hasOwn(db.boards, id)) continue;
      await this.deleteBoard(id).catch((error: unknown) => {
        if (!(error instanceof BoardError && error.kind === 'board_not_found')) throw error;
      });
    }
  }

  async scheduledBoards(): Promise<ScheduledBoard[]> {
    const ids = await this.boardIds();
    const metas = await this.redis(() =>
      Promise.all(ids.map((id) => this.client.hmget(boardKeys(id).meta, ...SEASON_FIELDS))),
    );
    return ids.flatMap((id, i) => {
      const [schedule, number, startedAt] = metas[i] ?? [];
      return scheduledOf(id, schedule, number, startedAt) ?? [];
    });
  }

  async seasons(boardId: string): Promise<SeasonList> {
    const keys = [...scriptKeys(boardId), boardKeys(boardId).seasons];
    return seasonListOf(boardId, new ReplyReader(await this.runWith('lbSeasons', keys, [])));
  }

  async seasonView(
    boardId: string,
    number: number,
    window: { from: number; limit: number },
  ): Promise<SeasonView> {
    // The board's keys with the season's ranking and players in place of its own.
    const [meta, , , ...rest] = scriptKeys(boardId);
    const keys = [meta ?? '', ...seasonKeys(boardId, number), ...rest, boardKeys(boardId).seasons];
    const args = [number, window.from, window.limit];
    const reply = await this.runWith('lbSeasonView', keys, args);
    return seasonViewOf(number, window.from, new ReplyReader(reply));
  }

  async setSchedule(boardId: string, schedule: Schedule | undefined, now: Date): Promise<void> {
    const keys = [...scriptKeys(boardId), boardKeys(boardId).seasons];
    const json = schedule === undefined ? '' : scheduleJson(schedule);
    await this.runWith('lbSetSchedule', keys, [json, now.toISOString()]);
    await this.durable(boardId);
  }

  async rollSeason(boardId: string, boundary: Date): Promise<boolean> {
    await this.requireBoard(boardId);
    const k = boardKeys(boardId);
    const [schedule, number, startedAt] = await this.redis(() =>
      this.client.hmget(k.meta, ...SEASON_FIELDS),
    );
    const board = scheduledOf(boardId, schedule, number, startedAt);
    if (board === undefined || typeof schedule !== 'string') return false;
    if (!rollsAt(board.schedule, board.season.startedAt, boundary)) return false;
    // The script checks again, atomically, that the board is still where this read found it.
    const n = board.season.number;
    const keys = [...scriptKeys(boardId), k.seasons, ...seasonKeys(boardId, n)];
    const rolled = await this.runWith('lbRollSeason', keys, [n, schedule, boundary.toISOString()]);
    if (rolled !== 1) return false;
    await this.durable(boardId);
    return true;
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  /**
   * Creates the demo board (as `seedDatabase`) when no board is registered yet. Several origins
   * may start at once: one script creates the board with its players, the others find it there.
   * A demo board deleted less than a day ago (its log is still there) is not made again.
   */
  async seed(now: Date): Promise<void> {
    if ((await this.redis(() => this.client.zcard(REGISTRY_KEY))) > 0) return;
    const ids = new Set<string>();
    while (ids.size < DEMO_PLAYERS.length) ids.add(this.newId());
    const players = [...ids].flatMap((id, i) => {
      const name = DEMO_PLAYERS[i] ?? '';
      return [id, name, foldName(name)];
    });
    await this.run('lbSeed', 'demo', ['Demo board', 'desc', now.toISOString(), ...players]);
    if ((await this.redis(() => this.client.exists(boardKeys('demo').meta))) === 1) {
      await this.register('keep', ['demo']);
    }
  }

  /**
   * One batch as one script. Fresh ids go only to the rows that will be added (names free now,
   * first in the batch), in row order, as the domain gives them; the script skips any name taken
   * since.
   */
  private async importBatch(boardId: string, rows: readonly ImportRow[]): Promise<ImportCounts> {
    const folded = rows.map((row) => foldName(row.name));
    const taken = await this.namesTaken(boardId, folded);
    const seen = new Set<string>();
    const adding = rows.filter((_, i) => {
      const name = folded[i] ?? '';
      if (seen.has(name) || taken.has(name)) return false;
      seen.add(name);
      return true;
    });
    const skipped = rows.length - adding.length;
    if (adding.length === 0) {
      await this.requireBoard(boardId);
      return { added: 0, skipped };
    }
    const ids = adding.map(() => this.newId());
    for (let attempt = 1; ; attempt++) {
      uniqueIds(ids, this.newId);
      const args = adding.flatMap((row, i) => [
        ids[i] ?? '',
        row.name,
        foldName(row.name),
        row.score ?? 0,
      ]);
      const max = this.limits.maxPlayersPerBoard;
      try {
        const reply = await this.run('lbImport', boardId, [max, adding.length, ...args]);
        const reader = new ReplyReader(reply);
        return { added: reader.number(), skipped: skipped + reader.number() };
      } catch (error) {
        const again = error instanceof IdsTaken ? error.rows : undefined;
        if (again === undefined || attempt >= ID_ATTEMPTS) throw unwrapIdsTaken(error);
        for (const row of again) ids[row] = this.newId();
      }
    }
  }

  /** Which of these folded names are taken on the board. */
  private async namesTaken(boardId: string, folded: readonly string[]): Promise<Set<string>> {
    const key = boardKeys(boardId).names;
    const taken = new Set<string>();
    for (let start = 0; start < folded.length; start += REDIS_BATCH) {
      const part = folded.slice(start, start + REDIS_BATCH);
      const holders = await this.redis(() => this.client.hmget(key, ...part));
      holders.forEach((holder, i) => {
        if (holder !== null) taken.add(part[i] ?? '');
      });
    }
    return taken;
  }

  /**
   * Replaces the board with `board`, and its past seasons with `seasons` (undefined: keeps
   * them): each filled into its restore keys, then put in place by one script.
   */
  private async restoreBoard(
    board: BoardRecord,
    seasons: readonly SeasonRecord[] | undefined,
  ): Promise<void> {
    const { id, order, schedule, season } = board;
    const temp = restoreKeys(id);
    await this.fillRestoreKeys('lbRestoreChunk', temp, order, board.players, (p) => [
      p.id,
      p.name,
      foldName(p.name),
      p.score,
      p.scoredAt,
      p.externalKey ?? '',
    ]);
    for (const kept of seasons ?? []) {
      const keys = restoreSeasonKeys(id, kept.number);
      await this.fillRestoreKeys('lbRestoreSeasonChunk', keys, order, kept.players, (p) => [
        p.id,
        p.name,
        foldName(p.name),
        p.score,
        p.scoredAt,
      ]);
    }
    const summaries = (seasons ?? []).flatMap((s) => [
      s.number,
      s.startedAt,
      s.endedAt,
      s.players.length,
    ]);
    await this.runWith(
      'lbRestoreCommit',
      [...scriptKeys(id), ...temp, boardKeys(id).seasons],
      [
        board.name,
        order,
        board.version,
        board.createdAt,
        board.operator ?? 'incr',
        schedule === undefined ? '' : scheduleJson(schedule),
        season?.number ?? '',
        season?.startedAt ?? '',
        seasons === undefined ? '0' : '1',
        ...summaries,
      ],
    );
    await this.durable(id);
  }

  /** Fills a restore's keys with `players`, REDIS_BATCH at a time; the first call empties them. */
  private async fillRestoreKeys<P>(
    name: 'lbRestoreChunk' | 'lbRestoreSeasonChunk',
    keys: readonly string[],
    order: BoardRecord['order'],
    players: readonly P[],
    fields: (player: P) => Array<string | number>,
  ): Promise<void> {
    for (let start = 0; start === 0 || start < players.length; start += REDIS_BATCH) {
      const args = players.slice(start, start + REDIS_BATCH).flatMap(fields);
      await this.runWith(name, keys, [order, start === 0 ? '1' : '0', ...args]);
    }
  }

  /**
   * One board whole, as a backup writes it: its fields and players at one version, and the past
   * seasons it had ended by then (a roll meanwhile keeps one more, left out).
   */
  private async dumpBoard(
    id: string,
  ): Promise<{ board: BoardRecord; seasons: SeasonRecord[] } | undefined> {
    const read = await this.viewInPieces(id, 0, undefined);
    const { view, createdAt, stored } = read ?? (await this.viewPart(id, [0, '', '', '', '']));
    const board: BoardRecord = {
      id,
      name: view.name,
      order: view.order,
      operator: view.operator,
      ...stored,
      version: view.version,
      createdAt,
      players: view.players.map(({ rank: _, ...player }) => player),
    };
    const before = stored.season?.number ?? Number.POSITIVE_INFINITY;
    const { seasons: kept } = await this.seasons(id);
    const seasons: SeasonRecord[] = [];
    for (const summary of kept.filter((s) => s.number < before).reverse()) {
      seasons.push(await this.dumpSeason(id, summary));
    }
    return { board, seasons };
  }

  /** A past season's final standings, read `viewChunk` rows at a time (they never change). */
  private async dumpSeason(id: string, summary: SeasonSummary): Promise<SeasonRecord> {
    const { number, startedAt, endedAt, playerCount } = summary;
    const players: RankedPlayer[] = [];
    while (players.length < playerCount) {
      const window = { from: players.length, limit: this.viewChunk };
      const part = await this.seasonView(id, number, window);
      if (part.players.length === 0) break;
      players.push(...part.players);
    }
    return { number, startedAt, endedAt, players };
  }

  /**
   * The rows [from, from + limit) read `viewChunk` at a time, each piece refused unless the board
   * is still at the first piece's version; undefined when it moved on meanwhile.
   */
  private async viewInPieces(
    boardId: string,
    from: number,
    limit: number | undefined,
  ): Promise<ViewRead | undefined> {
    const first = await this.viewPart(boardId, [from, limit ?? '', '', this.viewChunk, '']);
    const { view } = first;
    const end = Math.min(view.playerCount, from + (limit ?? view.playerCount));
    const players = [...view.players];
    while (from + players.length < end) {
      const start = from + players.length;
      const args = [start, end - start, '', this.viewChunk, view.version];
      const next = await this.viewPart(boardId, args).catch((error: unknown) => {
        if (error instanceof VersionChanged) return undefined;
        throw error;
      });
      if (next === undefined) return undefined;
      if (next.view.players.length === 0) break;
      for (const player of next.view.players) players.push(player);
    }
    return { ...first, view: { ...view, players } };
  }

  private async viewPart(boardId: string, args: ReadonlyArray<string | number>): Promise<ViewRead> {
    return readView(boardId, new ReplyReader(await this.run('lbView', boardId, args)));
  }

  private async register(mode: 'keep' | 'move', ids: readonly string[]): Promise<void> {
    await this.runWith('lbRegister', [REGISTRY_KEY], [mode, ...ids]);
    await this.durableKey(REGISTRY_KEY);
  }

  private async boardIds(): Promise<string[]> {
    return this.redis(() => this.client.zrange(REGISTRY_KEY, 0, '-1'));
  }

  private refusal(extra: RefusalContext = {}): RefusalContext {
    return {
      maxBoards: this.limits.maxBoards,
      maxPlayersPerBoard: this.limits.maxPlayersPerBoard,
      ...extra,
    };
  }

  /** Runs `attempt` with fresh ids until one is not in use (id_taken), at most 8 times. */
  private async withFreshId<T>(attempt: (id: string) => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt(this.newId());
      } catch (error) {
        if (!(error instanceof IdsTaken) || i >= ID_ATTEMPTS) throw unwrapIdsTaken(error);
      }
    }
  }

  private run(
    name: AnyScript,
    boardId: string,
    args: ReadonlyArray<string | number>,
    context: RefusalContext = {},
  ): Promise<unknown> {
    return this.runWith(name, scriptKeys(boardId), args, context);
  }

  private async runWith(
    name: AnyScript,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
    context: RefusalContext = {},
  ): Promise<unknown> {
    const command: unknown = Reflect.get(this.client, name);
    if (typeof command !== 'function') throw new Error(`the Redis script ${name} is not defined`);
    const call = IDEMPOTENT_SCRIPTS.has(name) ? idempotentCall(keys, args, this.now()) : undefined;
    let reply: unknown;
    try {
      reply = await command.apply(this.client, [...(call?.keys ?? keys), ...(call?.args ?? args)]);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal?.kind === 'id_taken') throw new IdsTaken(refusal.rows);
      if (refusal?.kind === 'version_changed') throw new VersionChanged();
      if (refusal?.kind === 'stale') throw new Stale();
      throw storeError(error, this.refusal(context));
    }
    return call === undefined ? reply : unwrapIdempotent(reply, call.context);
  }

  /** Runs plain Redis commands, turning a lost connection into StoreUnavailableError. */
  private async redis<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw storeError(error);
    }
  }

  /**
   * Resolves once `waitReplicas` replicas hold every write this connection made to the master
   * of the board's slot (WAIT on that very master: in a Cluster WAIT has no key, so the node is
   * found from the slot map ioredis keeps). Throws StoreUnavailableError when fewer did in time;
   * the change is then on the master and may or may not survive its failure.
   */
  private async durable(boardId: string): Promise<void> {
    await this.durableKey(boardTag(boardId));
  }

  private async durableKey(key: string): Promise<void> {
    if (this.waitReplicas <= 0) return;
    const node = masterOf(this.client, key);
    const acked = await this.redis(() => node.wait(this.waitReplicas, this.waitTimeoutMs));
    if (acked < this.waitReplicas) {
      throw new StoreUnavailableError(
        `the change is not on ${this.waitReplicas} replicas (${acked} acknowledged within ${this.waitTimeoutMs} ms)`,
      );
    }
  }
}

/** A batch found an external key taken or freed since Node looked: look again. */
class Stale extends Error {
  constructor() {
    super('stale');
  }
}

/** A piece of a long read found the board at another version than the first piece. */
class VersionChanged extends Error {
  constructor() {
    super('version_changed');
  }
}

/** A script refused the fresh ids of these rows (or the one fresh id): try others. */
class IdsTaken extends Error {
  constructor(readonly rows: number[]) {
    super('id_taken');
  }
}

function unwrapIdsTaken(error: unknown): unknown {
  return error instanceof IdsTaken
    ? boardErrorOf({ kind: 'id_taken', rows: error.rows }, {})
    : error;
}

/** Replaces ids repeated within one batch (the script checks them against the board only). */
function uniqueIds(ids: string[], newId: NewId): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    let candidate = id;
    while (seen.has(candidate)) candidate = newId();
    seen.add(candidate);
    ids[i] = candidate;
  });
}

/** The node that masters the slot of `key`: the client itself unless it is a Cluster. */
export function masterOf(client: Redis | Cluster, key: string): Redis {
  if (!(client instanceof Cluster)) return client;
  const slot = keySlot(key);
  const address = client.slots[slot]?.[0];
  const node = client
    .nodes('master')
    .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === address);
  if (node === undefined)
    throw new StoreUnavailableError(`no Redis master is known for slot ${slot}`);
  return node;
}

/** A board's operator from its meta; boards made before operators have none: `incr`. */
function operatorOf(value: string | null | undefined): ScoreOperator {
  return value === 'set' || value === 'best' || value === 'decr' ? value : 'incr';
}

function channelsOf(boardId: string, pages: readonly number[]): string[] {
  return [boardChannel(boardId), ...pages.map((page) => pageChannel(boardId, page))];
}

function heldOf(channels: readonly string[], ids: readonly number[]): HeldChannel[] {
  return channels.map((channel, i) => ({ channel, prevId: ids[i] ?? 0 }));
}

/** A window of a board as `lbView` reads it, with what the view leaves out. */
interface ViewRead {
  view: BoardView;
  createdAt: string;
  /** The season fields as stored (a board keeps its season when its schedule is removed). */
  stored: StoredSeason;
}

function readView(id: string, reader: ReplyReader): ViewRead {
  const name = reader.string();
  const order = reader.order();
  const version = reader.number();
  const playerCount = reader.number();
  const offset = reader.number();
  const createdAt = reader.string();
  const operator = reader.operator();
  const fields = [reader.string(), reader.string(), reader.string()];
  const season = seasonOfMeta(id, fields);
  const view = { id, name, order, operator, ...season, version, playerCount, offset };
  return {
    view: { ...view, players: reader.rows() },
    createdAt,
    stored: storedSeasonOf(id, fields),
  };
}

function readPages(
  id: string,
  pages: readonly number[],
  reader: ReplyReader,
): { snapshot: PagesSnapshot; ids: number[] } {
  const meta = {
    id,
    name: reader.string(),
    order: reader.order(),
    version: reader.number(),
    playerCount: reader.number(),
    operator: reader.operator(),
    ...readSeason(id, reader),
  };
  const ids = Array.from({ length: reader.number() }, () => reader.number());
  const rows = new Map<number, RankedPlayer[]>();
  for (const page of pages) rows.set(page, reader.rows(reader.number()));
  return { snapshot: { meta, pages: rows }, ids };
}

/** What `checkImport` in domain/board.ts finds, from the names already taken on the board. */
function importProblems(
  rows: readonly ImportRow[],
  folded: readonly string[],
  taken: ReadonlySet<string>,
  size: number,
  limits: Limits,
  skipExisting: boolean,
  max = 100,
): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const seen = new Map<string, number>();
  let adding = 0;
  rows.forEach((row, i) => {
    if (problems.length >= max) return;
    const name = folded[i] ?? '';
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      problems.push({ row: i, message: `name: "${row.name}" is also in row ${earlier + 1}` });
      return;
    }
    seen.set(name, i);
    if (taken.has(name)) {
      if (!skipExisting) {
        problems.push({
          row: i,
          message: `name: a player named "${row.name}" is already on this board`,
        });
      }
      return;
    }
    adding++;
  });
  if (problems.length === 0 && size + adding > limits.maxPlayersPerBoard) {
    problems.push({
      row: rows.length - 1,
      message: `the board would hold ${size + adding} players; at most ${limits.maxPlayersPerBoard}`,
    });
  }
  return problems;
}
