import { BOARD_KEYS, readScript, type ScriptDefinition, script } from './scripts.ts';

/*
 * The scripts of seasons (see keys.ts): each runs in the board's slot like every board script,
 * KEYS the seven of `scriptKeys` then the board's :seasons hash, then (rolling) the two keys of
 * the season it keeps. The season fields live in the board's :meta: `schedule` (the schedule as
 * JSON), `season` (its number) and `seasonStart` (ISO 8601, UTC; strings in that form compare in
 * time order).
 */

const K_SEASONS = 'local K_SEASONS = KEYS[8]';

/**
 * Ends the season at a boundary. KEYS: board keys, :seasons, :season:<n>:rank,
 * :season:<n>:players. ARGV: n (the season the caller saw), the schedule JSON it saw, the
 * boundary. Returns 0, changing nothing, unless the board is still in season n of that schedule
 * and the season began before the boundary (already rolled, or the schedule changed); else keeps
 * the ranking and the players as season n, sets every score that is not 0 to 0 at the new
 * version (as the reset script), starts season n + 1 at the boundary, logs `bulk=season`, 1.
 */
const roll = script(
  `${K_SEASONS}
local order = board()
local m = redis.call('HMGET', K_META, 'schedule', 'season', 'seasonStart')
if m[1] ~= ARGV[2] or m[2] ~= ARGV[1] or not m[3] or m[3] >= ARGV[3] then return 0 end
local size = redis.call('ZCARD', K_RANK)
redis.call('UNLINK', KEYS[9], KEYS[10])
if size > 0 then
  redis.call('COPY', K_RANK, KEYS[9])
  redis.call('COPY', K_PLAYERS, KEYS[10])
end
redis.call('HSET', K_SEASONS, ARGV[1], m[3] .. ' ' .. ARGV[3] .. ' ' .. int(size))
local v = bump()
zeroScores(order, v)
redis.call('HSET', K_META, 'season', int(tonumber(ARGV[1]) + 1), 'seasonStart', ARGV[3])
log(v, '', '1', 'bulk', 'season')
return 1
`,
  BOARD_KEYS + 3,
);

/**
 * Sets the schedule (ARGV[1], JSON) or removes it (''), at ARGV[2] (now). A board that had none
 * starts a season now: its current number, or one past the last kept. One version, logged as a
 * meta change. Returns the version.
 */
const setSchedule = script(
  `${K_SEASONS}
board()
local m = redis.call('HMGET', K_META, 'schedule', 'season')
if ARGV[1] == '' then
  redis.call('HDEL', K_META, 'schedule')
else
  if not m[1] or not m[2] then
    local n = tonumber(m[2] or '0')
    if not m[2] then
      for _, kept in ipairs(redis.call('HKEYS', K_SEASONS)) do n = math.max(n, tonumber(kept)) end
      n = n + 1
    end
    redis.call('HSET', K_META, 'season', int(n), 'seasonStart', ARGV[2])
  end
  redis.call('HSET', K_META, 'schedule', ARGV[1])
end
local v = bump()
log(v, '', '1')
return v
`,
  BOARD_KEYS + 1,
);

/**
 * The season under way and the past ones. KEYS: board keys, :seasons. Returns schedule, season,
 * seasonStart ('' each without a schedule), then number and summary ('<startedAt> <endedAt>
 * <players>') per past season.
 */
const list = readScript(
  `${K_SEASONS}
board()
local out = {}
pushSeason(out)
local kept = redis.call('HGETALL', K_SEASONS)
for i = 1, #kept do out[#out + 1] = kept[i] end
return out
`,
  BOARD_KEYS + 1,
);

/**
 * A window of a past season's standings. KEYS: the board keys with :rank and :players replaced
 * by the season's (so the ranking helpers read the season), then :seasons. ARGV: n, from, limit.
 * Refuses 'season_not_found n'. Returns the summary, then the rows with their ranks.
 */
const view = readScript(
  `${K_SEASONS}
local order = board()
local summary = redis.call('HGET', K_SEASONS, ARGV[1])
if not summary then refuse('season_not_found ' .. ARGV[1]) end
local from = tonumber(ARGV[2])
local out = { summary }
rows(order, from, from + tonumber(ARGV[3]) - 1, out)
return out
`,
  BOARD_KEYS + 1,
);

/** The season scripts, by the name each is defined under on the client. */
export const SEASON_SCRIPTS = {
  lbRollSeason: roll,
  lbSetSchedule: setSchedule,
  lbSeasons: list,
  lbSeasonView: view,
} satisfies Record<string, ScriptDefinition>;
