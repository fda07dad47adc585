import { type SeasonInfo, scheduleSchema } from '../../../contract/board.ts';
import type { SeasonList, SeasonSummary, SeasonView } from '../../../contract/scores.ts';
import type { Schedule } from '../../domain/schedule.ts';
import { type ScheduledBoard, seasonInfoOf } from '../../domain/seasons.ts';
import type { ReplyReader } from './replies.ts';

/*
 * Seasons in Redis, read and written by season-scripts.ts: the TypeScript side of the board's
 * season fields (`schedule`, `season`, `seasonStart` in :meta) and of its :seasons hash
 * (season number -> '<startedAt> <endedAt> <players>').
 */

/** The schedule as :meta keeps it: JSON with its fields in one order, so equal means same. */
export function scheduleJson(schedule: Schedule): string {
  const { every, at, timeZone, weekday, day } = schedule;
  return JSON.stringify({ every, at, timeZone, weekday, day });
}

/** The season fields of :meta as the domain has them; undefined without a schedule. */
export function scheduledOf(
  id: string,
  schedule: string | null | undefined,
  number: string | null | undefined,
  startedAt: string | null | undefined,
): ScheduledBoard | undefined {
  if (typeof schedule !== 'string' || schedule === '') return undefined;
  if (typeof number !== 'string' || number === '' || typeof startedAt !== 'string')
    return undefined;
  const parsed = scheduleSchema.safeParse(JSON.parse(schedule));
  if (!parsed.success) throw new Error(`board ${id} keeps a schedule of the wrong shape in Redis`);
  return { id, schedule: parsed.data, season: { number: Number(number), startedAt } };
}

/** A board's season fields as the domain's BoardRecord has them. */
export interface StoredSeason {
  schedule?: Schedule;
  season?: { number: number; startedAt: string };
}

/**
 * The season fields of :meta (in `SEASON_FIELDS` order) as stored: the schedule, if any, and the
 * season, which a board keeps when its schedule is removed. What a backup writes.
 */
export function storedSeasonOf(
  id: string,
  [schedule, number, startedAt]: ReadonlyArray<string | null | undefined>,
): StoredSeason {
  const scheduled = scheduledOf(id, schedule, number, startedAt);
  if (scheduled !== undefined) return { schedule: scheduled.schedule, season: scheduled.season };
  if (typeof number !== 'string' || number === '' || typeof startedAt !== 'string') return {};
  return { season: { number: Number(number), startedAt } };
}

/** The season fields of :meta, in the order scripts and readers take them. */
export const SEASON_FIELDS = ['schedule', 'season', 'seasonStart'] as const;

/** The wire season of a board from its season fields (in `SEASON_FIELDS` order), if any. */
export function seasonOfMeta(
  id: string,
  [schedule, number, startedAt]: ReadonlyArray<string | null | undefined>,
): { season?: SeasonInfo } {
  const board = scheduledOf(id, schedule, number, startedAt);
  return board === undefined ? {} : { season: seasonInfoOf(board.schedule, board.season) };
}

/** Reads the three season fields a script pushed (`pushSeason`): the wire season, if any. */
export function readSeason(id: string, reader: ReplyReader): { season?: SeasonInfo } {
  return seasonOfMeta(id, [reader.string(), reader.string(), reader.string()]);
}

function summaryOf(number: number, kept: string): SeasonSummary {
  const [startedAt = '', endedAt = '', players = '0'] = kept.split(' ');
  return { number, startedAt, endedAt, playerCount: Number(players) };
}

/** The `lbSeasons` reply: the season under way, and the past ones newest first. */
export function seasonListOf(id: string, reader: ReplyReader): SeasonList {
  const { season } = readSeason(id, reader);
  const seasons: SeasonSummary[] = [];
  while (!reader.done) {
    const number = reader.number();
    seasons.push(summaryOf(number, reader.string()));
  }
  seasons.sort((a, b) => b.number - a.number);
  return season === undefined ? { seasons } : { current: season, seasons };
}

/** The `lbSeasonView` reply: the summary, then the rows. */
export function seasonViewOf(number: number, from: number, reader: ReplyReader): SeasonView {
  return { ...summaryOf(number, reader.string()), offset: from, players: reader.rows() };
}
