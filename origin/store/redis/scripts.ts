import { MAX_SCORE } from '../../../contract/board.ts';
import { PAGE_SIZE } from '../../../contract/windows.ts';
import { MAX_MOVED_RANGES } from '../../domain/score-batch.ts';
import { LOG_MAX_ENTRIES } from './keys.ts';

/*
 * The Lua scripts every read and change of a board runs as (EVALSHA through ioredis
 * `defineCommand`). Each runs in the board's one slot, KEYS in the order of `scriptKeys`
 * (keys.ts), so a change and its log entry are one atomic step, and a read sees one version.
 *
 * Lua numbers are doubles: every integer we keep (scores within ±10^12, versions, scoredAt) is
 * exact, and is written out with string.format('%d') (tostring would print 1e+15). Keys a board
 * drops are UNLINKed: a large one is freed in the background, not inside the script. A refusal is
 * raised as an error reply 'BOARD <kind>' (errors.ts turns it into the domain's BoardError); an
 * id already taken is refused as 'BOARD id_taken' and retried with a new id.
 */

const PRELUDE = `
local MAX_SCORE = ${MAX_SCORE}
local PAGE_SIZE = ${PAGE_SIZE}
local K_META, K_RANK, K_PLAYERS, K_NAMES, K_BYNAME, K_LOG, K_PUB =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]

-- The external-key index (keys.ts): named after the board's own tag, so in the board's slot.
local K_EXT = string.sub(K_META, 1, -5) .. 'ext'
local K_EXTOF = string.sub(K_META, 1, -5) .. 'extof'

local function refuse(kind) error({ err = 'BOARD ' .. kind }) end
local function int(n) return string.format('%d', n) end
local function member(at, id) return string.format('%016d', at) .. ':' .. id end
local function idOf(m) return string.sub(m, 18) end
local function sortScore(order, score)
  if order == 'desc' then return int(0 - score) end
  return int(score)
end
local function encode(score, at, name, folded)
  return int(score) .. ':' .. int(at) .. ':' .. int(#name) .. ':' .. name .. folded
end
local function decode(rec)
  local score, at, len, rest = string.match(rec, '^(%-?%d+):(%d+):(%d+):(.*)$')
  len = tonumber(len)
  return tonumber(score), tonumber(at), string.sub(rest, 1, len), string.sub(rest, len + 1)
end
local function nameKey(folded, id) return folded .. '\\0' .. id end

local function board()
  local m = redis.call('HMGET', K_META, 'order', 'version')
  if not m[1] then refuse('board_not_found') end
  return m[1], tonumber(m[2])
end
local function player(id)
  local rec = redis.call('HGET', K_PLAYERS, id)
  if not rec then refuse('player_not_found') end
  return decode(rec)
end
local function rankOf(sort) return redis.call('ZCOUNT', K_RANK, '-inf', '(' .. sort) + 1 end
local function positionOf(at, id) return redis.call('ZRANK', K_RANK, member(at, id)) end
local function bump() return redis.call('HINCRBY', K_META, 'version', 1) end
local function span(a, b)
  if a <= b then return int(a) .. '-' .. int(b) end
  return int(b) .. '-' .. int(a)
end
local function log(v, moved, meta, ...)
  redis.call('XADD', K_LOG, 'MAXLEN', '~', '${LOG_MAX_ENTRIES}', '*',
    'v', int(v), 'moved', moved, 'meta', meta, ...)
end

local function place(order, id, score, at, name, folded)
  redis.call('ZADD', K_RANK, sortScore(order, score), member(at, id))
  redis.call('HSET', K_PLAYERS, id, encode(score, at, name, folded))
end
local function claimName(folded, id)
  redis.call('HSET', K_NAMES, folded, id)
  redis.call('ZADD', K_BYNAME, 0, nameKey(folded, id))
end
local function freeName(folded, id)
  redis.call('HDEL', K_NAMES, folded)
  redis.call('ZREM', K_BYNAME, nameKey(folded, id))
end

-- HMGET in pieces: unpack() of a long list overflows Lua's C stack.
local function hmget(key, ids)
  local out = {}
  for i = 1, #ids, 1000 do
    local part = redis.call('HMGET', key, unpack(ids, i, math.min(i + 999, #ids)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end

-- Every score that is not 0 becomes 0, reached at version v (a reset, a season's end).
local function zeroScores(order, v)
  local moving = {}
  for _, range in ipairs({ { '-inf', '(0' }, { '(0', '+inf' } }) do
    local members = redis.call('ZRANGEBYSCORE', K_RANK, range[1], range[2])
    for i = 1, #members do moving[#moving + 1] = idOf(members[i]) end
    redis.call('ZREMRANGEBYSCORE', K_RANK, range[1], range[2])
  end
  local recs = hmget(K_PLAYERS, moving)
  for i = 1, #moving do
    local _, _, name, folded = decode(recs[i])
    place(order, moving[i], 0, v, name, folded)
  end
end

-- Appends to out the rows at display positions start..stop (inclusive), six values each:
-- id, name, score, scoredAt, rank, externalKey ('' for none). Ties share the rank of the first.
-- A board without external keys costs nothing more than its players' records.
local function rows(order, start, stop, out)
  if stop < start then return 0 end
  local members = redis.call('ZRANGE', K_RANK, start, stop)
  local ids = {}
  for i = 1, #members do ids[i] = idOf(members[i]) end
  local recs = hmget(K_PLAYERS, ids)
  local exts = {}
  if redis.call('EXISTS', K_EXTOF) == 1 then exts = hmget(K_EXTOF, ids) end
  local prevScore, prevRank
  for i = 1, #ids do
    local score, at, name = decode(recs[i])
    local rank
    if prevScore == nil then rank = rankOf(sortScore(order, score))
    elseif score == prevScore then rank = prevRank
    else rank = start + i end
    prevScore, prevRank = score, rank
    local n = #out
    out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = ids[i], name, int(score), int(at), rank
    out[n + 6] = exts[i] or ''
  end
  return #ids
end

-- Appends the board's season fields to out: schedule (JSON), season number and its start, each
-- '' on a board without a schedule (see season-scripts.ts).
local function pushSeason(out)
  local m = redis.call('HMGET', K_META, 'schedule', 'season', 'seasonStart')
  for i = 1, 3 do out[#out + 1] = m[i] or '' end
end

local function ranked(order, id, score, at, name)
  local ext = redis.call('HGET', K_EXTOF, id) or ''
  return { id, name, int(score), int(at), rankOf(sortScore(order, score)), ext }
end
`;

/** A script and how many of its arguments are keys. */
export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

export const BOARD_KEYS = 7;

export function script(body: string, numberOfKeys = BOARD_KEYS): ScriptDefinition {
  return { numberOfKeys, lua: `${PRELUDE}\n${body}` };
}

/**
 * A change script that can answer an idempotent request (store/idempotency.ts), one wrapper for
 * every change: its KEYS end with the answer's key (`{board:<id>}:idem:<sha>`, in the board's
 * slot), its ARGV with the request's fingerprint ('' when the request has no key), the time
 * (milliseconds) and how long an answer is kept. With a fingerprint, an answer kept under the key
 * (less than that long ago) is answered instead of running the change: { 'replay', its reply },
 * or { 'conflict' } when it was kept for another fingerprint. Else the change runs and its reply
 * is kept (MessagePack: exact for every integer) with PX, in the same atomic step:
 * { 'fresh', reply }. A refused change raises its error before anything is kept.
 */
function idempotentScript(body: string, numberOfKeys = BOARD_KEYS): ScriptDefinition {
  return script(
    `
local IDEM_KEY = KEYS[#KEYS]
local IDEM_TTL = table.remove(ARGV)
local IDEM_NOW = table.remove(ARGV)
local IDEM_FP = table.remove(ARGV)
if IDEM_FP ~= '' then
  local kept = redis.call('GET', IDEM_KEY)
  if kept then
    local answer = cmsgpack.unpack(kept)
    if tonumber(IDEM_NOW) - answer[2] < tonumber(IDEM_TTL) then
      if answer[1] ~= IDEM_FP then return { 'conflict' } end
      return { 'replay', answer[3] }
    end
  end
end
local function change()
${body}
end
local reply = change()
if IDEM_FP ~= '' then
  redis.call('SET', IDEM_KEY, cmsgpack.pack({ IDEM_FP, tonumber(IDEM_NOW), reply }), 'PX', IDEM_TTL)
end
return { 'fresh', reply }
`,
    numberOfKeys + 1,
  );
}

/**
 * A script that only reads: declared `no-writes` (Redis 7), so it still runs when Redis refuses
 * writes (out of memory, too few replicas for `min-replicas-to-write`).
 */
export function readScript(body: string, numberOfKeys = BOARD_KEYS): ScriptDefinition {
  return { numberOfKeys, lua: `#!lua flags=no-writes\n${PRELUDE}\n${body}` };
}

/**
 * A window of the ranking. ARGV: from, limit ('' = to the end), around ('' = none; then limit
 * '' means 10), most rows to give ('' = all the window; a long window is read in pieces), the
 * version the board must still be at ('' = any; else refuses 'version_changed'). Returns name,
 * order, version, playerCount, offset, createdAt, operator, then the rows.
 */
const view = readScript(`
local meta = redis.call('HMGET', K_META, 'name', 'order', 'version', 'createdAt', 'operator')
if not meta[1] then refuse('board_not_found') end
if ARGV[5] ~= '' and meta[3] ~= ARGV[5] then refuse('version_changed') end
local order = meta[2]
local size = redis.call('ZCARD', K_RANK)
local start = tonumber(ARGV[1])
local limit = size
if ARGV[2] ~= '' then limit = tonumber(ARGV[2]) end
if ARGV[3] ~= '' then
  local _, at = player(ARGV[3])
  if ARGV[2] == '' then limit = 10 end
  local position = positionOf(at, ARGV[3])
  start = math.max(0, math.min(position - math.floor((limit - 1) / 2), size - limit))
end
local count = limit
if ARGV[4] ~= '' then count = math.min(limit, tonumber(ARGV[4])) end
local out = { meta[1], order, meta[3], size, start, meta[4], meta[5] or 'incr' }
pushSeason(out)
rows(order, start, start + count - 1, out)
return out
`);

/**
 * Pages of the ranking at one version, and for a stream start the id each channel was last
 * published at. ARGV: withHeld ('1' | '0'), n, n page numbers, then (withHeld) the board's
 * channel and the n pages' channels. Returns nil when the board is gone, else name, order,
 * version, playerCount, operator, the held count h, h ids, then per page its row count and rows.
 */
const pages = script(`
local meta = redis.call('HMGET', K_META, 'name', 'order', 'version', 'operator')
if not meta[1] then return nil end
local order, version = meta[2], tonumber(meta[3])
local n = tonumber(ARGV[2])
local out = { meta[1], order, meta[3], redis.call('ZCARD', K_RANK), meta[4] or 'incr' }
pushSeason(out)
if ARGV[1] == '1' then
  redis.call('HSETNX', K_PUB, 'base', int(version))
  local fields = { 'base' }
  for i = 1, n + 1 do fields[i + 1] = ARGV[2 + n + i] end
  local ids = redis.call('HMGET', K_PUB, unpack(fields))
  out[#out + 1] = n + 1
  for i = 2, n + 2 do out[#out + 1] = ids[i] or ids[1] end
else
  out[#out + 1] = 0
end
for i = 1, n do
  local page = tonumber(ARGV[2 + i])
  local at = #out + 1
  out[at] = 0
  out[at] = rows(order, page * PAGE_SIZE, (page + 1) * PAGE_SIZE - 1, out)
end
return out
`);

/** The id each channel (ARGV) was last published at, else the board's base. */
const held = script(`
local _, version = board()
redis.call('HSETNX', K_PUB, 'base', int(version))
local fields = { 'base' }
for i = 1, #ARGV do fields[i + 1] = ARGV[i] end
local ids = redis.call('HMGET', K_PUB, unpack(fields))
local out = {}
for i = 2, #ids do out[#out + 1] = ids[i] or ids[1] end
return out
`);

/** One player, ranked. ARGV: id. */
const playerView = readScript(`
local order = board()
local score, at, name = player(ARGV[1])
return ranked(order, ARGV[1], score, at, name)
`);

/** A player's display position, or -1 when it (or the board) is not there. ARGV: id. */
const position = readScript(`
local rec = redis.call('HGET', K_PLAYERS, ARGV[1])
if not rec then return -1 end
local _, at = decode(rec)
return positionOf(at, ARGV[1])
`);

/** Refuses unless the board (and the player, when ARGV[1] is not '') exists. */
const probe = readScript(`
board()
if ARGV[1] ~= '' and redis.call('HEXISTS', K_PLAYERS, ARGV[1]) == 0 then refuse('player_not_found') end
return 1
`);

/** Players whose folded name starts with ARGV[1], by name, at most ARGV[2]; rows as in views. */
const search = readScript(`
local order = board()
local members = redis.call('ZRANGEBYLEX', K_BYNAME, '[' .. ARGV[1], '(' .. ARGV[1] .. '\\255',
  'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #members do
  local m = members[i]
  local id = string.sub(m, string.find(m, '\\0', 1, true) + 1)
  local score, at, name = decode(redis.call('HGET', K_PLAYERS, id))
  local row = ranked(order, id, score, at, name)
  for j = 1, 6 do out[#out + 1] = row[j] end
end
return out
`);

/**
 * A new empty board. ARGV: name, order, createdAt, operator, schedule (JSON; '' for none: with
 * one, season 1 starts at createdAt). Refuses an id in use or just deleted.
 */
const createBoard = script(`
if redis.call('EXISTS', K_META, K_LOG, K_PUB) > 0 then refuse('id_taken') end
redis.call('HSET', K_META, 'name', ARGV[1], 'order', ARGV[2], 'version', '0', 'createdAt', ARGV[3],
  'operator', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('HSET', K_META, 'schedule', ARGV[5], 'season', '1', 'seasonStart', ARGV[3])
end
return 1
`);

/**
 * The demo board with its players, all at once (several origins may start together): returns 0
 * and does nothing when the id is in use or just deleted. ARGV: name, order, createdAt, then
 * id, name, folded per player.
 */
const seed = script(`
if redis.call('EXISTS', K_META, K_LOG, K_PUB) > 0 then return 0 end
local order = ARGV[2]
local v = 0
for i = 4, #ARGV, 3 do
  v = v + 1
  place(order, ARGV[i], 0, v, ARGV[i + 1], ARGV[i + 2])
  claimName(ARGV[i + 2], ARGV[i])
end
redis.call('HSET', K_META, 'name', ARGV[1], 'order', order, 'version', int(v), 'createdAt', ARGV[3])
return 1
`);

/** ARGV: id, name, folded, most players. Returns the new player, ranked. */
const addPlayer = idempotentScript(`
local order = board()
local id, name, folded = ARGV[1], ARGV[2], ARGV[3]
local size = redis.call('ZCARD', K_RANK)
if size >= tonumber(ARGV[4]) then refuse('limit_reached') end
if redis.call('HEXISTS', K_NAMES, folded) == 1 then refuse('name_taken') end
if redis.call('HEXISTS', K_PLAYERS, id) == 1 then refuse('id_taken') end
local v = bump()
place(order, id, 0, v, name, folded)
claimName(folded, id)
log(v, span(positionOf(v, id), size), '1')
return ranked(order, id, 0, v, name)
`);

/**
 * ARGV: id, hasName ('1' | '0'), name, folded, hasScore ('1' | '0'), score. Returns the player,
 * ranked. A new score is reached at the new version; the same score keeps its scoredAt.
 */
const updatePlayer = idempotentScript(`
local order = board()
local id = ARGV[1]
local score, at, name, folded = player(id)
local newName, newFolded, newScore, newAt = name, folded, score, at
if ARGV[2] == '1' and ARGV[3] ~= name then
  local holder = redis.call('HGET', K_NAMES, ARGV[4])
  if holder and holder ~= id then refuse('name_taken') end
  newName, newFolded = ARGV[3], ARGV[4]
end
local from = positionOf(at, id)
local v = bump()
if ARGV[5] == '1' and tonumber(ARGV[6]) ~= score then newScore, newAt = tonumber(ARGV[6]), v end
if newName ~= name then
  freeName(folded, id)
  claimName(newFolded, id)
end
redis.call('ZREM', K_RANK, member(at, id))
place(order, id, newScore, newAt, newName, newFolded)
log(v, span(from, positionOf(newAt, id)), '0')
return ranked(order, id, newScore, newAt, newName)
`);

/** ARGV: id. Returns the new version. */
const removePlayer = idempotentScript(`
board()
local id = ARGV[1]
local score, at, name, folded = player(id)
local from = positionOf(at, id)
local last = redis.call('ZCARD', K_RANK) - 1
redis.call('ZREM', K_RANK, member(at, id))
redis.call('HDEL', K_PLAYERS, id)
freeName(folded, id)
local ext = redis.call('HGET', K_EXTOF, id)
if ext then
  redis.call('HDEL', K_EXT, ext)
  redis.call('HDEL', K_EXTOF, id)
end
local v = bump()
log(v, span(from, last), '1')
return v
`);

/** ARGV: id, amount. Returns the player, ranked. Only on an 'incr' board (a missing operator). */
const addScore = idempotentScript(`
local order = board()
local operator = redis.call('HGET', K_META, 'operator')
if operator and operator ~= 'incr' then refuse('operator_mismatch ' .. operator) end
local id = ARGV[1]
local score, at, name, folded = player(id)
local next = score + tonumber(ARGV[2])
if math.abs(next) > MAX_SCORE then refuse('score_out_of_range') end
local from = positionOf(at, id)
local v = bump()
redis.call('ZREM', K_RANK, member(at, id))
place(order, id, next, v, name, folded)
log(v, span(from, positionOf(v, id)), '0')
return ranked(order, id, next, v, name)
`);

/**
 * Every score that is not 0 becomes 0, reached at the new version. ARGV: limit. Returns the top
 * `limit` rows as the view script does.
 */
const reset = idempotentScript(`
local order = board()
local v = bump()
zeroScores(order, v)
log(v, '', '0', 'bulk', 'reset')
local meta = redis.call('HMGET', K_META, 'name', 'createdAt', 'operator')
local out = { meta[1], order, int(v), redis.call('ZCARD', K_RANK), 0, meta[2], meta[3] or 'incr' }
pushSeason(out)
rows(order, 0, tonumber(ARGV[1]) - 1, out)
return out
`);

/**
 * One import batch as one change. ARGV: most players, n, then id, name, folded, score per row.
 * Names already on the board (or earlier in the batch) are skipped. Refuses 'id_taken <rows>'
 * (0-based, comma-separated) when fresh ids are in use. Returns added, skipped, version, count.
 */
const importPlayers = script(`
local order, version = board()
local n = tonumber(ARGV[2])
local adds, seen, taken, skipped = {}, {}, {}, 0
for i = 0, n - 1 do
  local b = 3 + i * 4
  local folded = ARGV[b + 2]
  if seen[folded] or redis.call('HEXISTS', K_NAMES, folded) == 1 then
    skipped = skipped + 1
  else
    seen[folded] = true
    if redis.call('HEXISTS', K_PLAYERS, ARGV[b]) == 1 then taken[#taken + 1] = i end
    adds[#adds + 1] = b
  end
end
if #taken > 0 then refuse('id_taken ' .. table.concat(taken, ',')) end
local size = redis.call('ZCARD', K_RANK)
if size + #adds > tonumber(ARGV[1]) then refuse('limit_reached') end
if #adds == 0 then return { 0, skipped, version, size } end
local v = bump()
for _, b in ipairs(adds) do
  place(order, ARGV[b], tonumber(ARGV[b + 3]), v, ARGV[b + 1], ARGV[b + 2])
  claimName(ARGV[b + 2], ARGV[b])
end
log(v, '', '1', 'bulk', 'import')
return { #adds, skipped, v, size + #adds }
`);

/**
 * Deletes the board: logs 'deleted' at the version after its last, removes every key but :log,
 * :pub and :lease, which expire after ARGV[1] seconds (the lease keeps an expiry it has).
 * The board's past seasons go with it. KEYS: the seven board keys, :lease and :seasons (the
 * season keys are named from it, in the same slot). Returns that version.
 */
const deleteBoard = idempotentScript(
  `
local _, version = board()
local v = version + 1
log(v, '', '1', 'deleted', '1')
local tag = string.sub(K_META, 1, #K_META - #':meta')
for _, n in ipairs(redis.call('HKEYS', KEYS[9])) do
  redis.call('UNLINK', tag .. ':season:' .. n .. ':rank', tag .. ':season:' .. n .. ':players')
end
redis.call('UNLINK', KEYS[9])
redis.call('UNLINK', K_META, K_RANK, K_PLAYERS, K_NAMES, K_BYNAME, K_EXT, K_EXTOF)
redis.call('EXPIRE', K_LOG, ARGV[1])
redis.call('EXPIRE', K_PUB, ARGV[1])
redis.call('EXPIRE', KEYS[8], ARGV[1], 'NX')
return v
`,
  BOARD_KEYS + 2,
);

/**
 * Fills a restore's keys with some of a board's players. KEYS: `restoreKeys` (rank, players,
 * names, byname, ext, extof). ARGV: order, first ('1' empties the keys first), then id, name,
 * folded, score, scoredAt, externalKey ('' for none) per player.
 */
const restoreChunk = script(
  `
local R_RANK, R_PLAYERS, R_NAMES, R_BYNAME, R_EXT, R_EXTOF = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if ARGV[2] == '1' then redis.call('UNLINK', R_RANK, R_PLAYERS, R_NAMES, R_BYNAME, R_EXT, R_EXTOF) end
local order = ARGV[1]
for i = 3, #ARGV, 6 do
  local id, name, folded, score, at = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  redis.call('ZADD', R_RANK, sortScore(order, score), member(at, id))
  redis.call('HSET', R_PLAYERS, id, encode(score, at, name, folded))
  redis.call('HSET', R_NAMES, folded, id)
  redis.call('ZADD', R_BYNAME, 0, nameKey(folded, id))
  if ARGV[i + 5] ~= '' then
    redis.call('HSET', R_EXT, ARGV[i + 5], id)
    redis.call('HSET', R_EXTOF, id, ARGV[i + 5])
  end
end
return 1
`,
  6,
);

/**
 * Fills a restore's keys of one past season with some of its final standings. KEYS:
 * `restoreSeasonKeys` (rank, players). ARGV: order, first ('1' empties the keys first), then id,
 * name, folded, score, scoredAt per player.
 */
const restoreSeasonChunk = script(
  `
local R_RANK, R_PLAYERS = KEYS[1], KEYS[2]
if ARGV[2] == '1' then redis.call('UNLINK', R_RANK, R_PLAYERS) end
local order = ARGV[1]
for i = 3, #ARGV, 5 do
  local id, name, folded, score, at = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  redis.call('ZADD', R_RANK, sortScore(order, score), member(at, id))
  redis.call('HSET', R_PLAYERS, id, encode(score, at, name, folded))
end
return 1
`,
  2,
);

/**
 * Replaces the board with what the restore keys hold, in one step. KEYS: the seven board keys,
 * then `restoreKeys`, then :seasons. ARGV: name, order, version, createdAt, operator, schedule
 * (JSON, '' for none), season and seasonStart ('' for none), seasons ('1': replace the past
 * seasons with those that follow, each number, startedAt, endedAt, player count, their standings
 * in `restoreSeasonKeys`; '0': keep the board's). The version is the one given, or one past the
 * board's own if that is larger (a change landed since the caller looked). Returns it.
 */
const restoreCommit = script(
  `
local K_SEASONS = KEYS[14]
local old = redis.call('HGET', K_META, 'version')
local v = tonumber(ARGV[3])
if old and tonumber(old) + 1 > v then v = tonumber(old) + 1 end
redis.call('UNLINK', K_META, K_RANK, K_PLAYERS, K_NAMES, K_BYNAME, K_EXT, K_EXTOF)
local into = { K_RANK, K_PLAYERS, K_NAMES, K_BYNAME, K_EXT, K_EXTOF }
for i = 1, 6 do
  if redis.call('EXISTS', KEYS[7 + i]) == 1 then redis.call('RENAME', KEYS[7 + i], into[i]) end
end
redis.call('HSET', K_META, 'name', ARGV[1], 'order', ARGV[2], 'version', int(v), 'createdAt', ARGV[4],
  'operator', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', K_META, 'schedule', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', K_META, 'season', ARGV[7], 'seasonStart', ARGV[8]) end
if ARGV[9] == '1' then
  local tag = string.sub(K_META, 1, #K_META - #':meta')
  for _, n in ipairs(redis.call('HKEYS', K_SEASONS)) do
    redis.call('UNLINK', tag .. ':season:' .. n .. ':rank', tag .. ':season:' .. n .. ':players')
  end
  redis.call('UNLINK', K_SEASONS)
  for i = 10, #ARGV, 4 do
    local n = ARGV[i]
    for _, part in ipairs({ ':rank', ':players' }) do
      local from = tag .. ':restore:season:' .. n .. part
      if redis.call('EXISTS', from) == 1 then redis.call('RENAME', from, tag .. ':season:' .. n .. part) end
    end
    redis.call('HSET', K_SEASONS, n, ARGV[i + 1] .. ' ' .. ARGV[i + 2] .. ' ' .. ARGV[i + 3])
  end
end
redis.call('PERSIST', K_LOG)
redis.call('PERSIST', K_PUB)
log(v, '', '1', 'bulk', 'restore')
return v
`,
  BOARD_KEYS + 7,
);

/**
 * Registers board ids in the registry (KEYS[1], a slot of its own) after every id there, in the
 * order given, so listing follows creation (or a restore's order) whichever origin created them.
 * ARGV: 'keep' (an id already there stays where it is) or 'move' (it moves to the end), then ids.
 */
const register = {
  numberOfKeys: 1,
  lua: `
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local score = tonumber(last[2] or '0')
for i = 2, #ARGV do
  if ARGV[1] == 'move' or not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    score = score + 1
    redis.call('ZADD', KEYS[1], string.format('%d', score), ARGV[i])
  end
end
return 1
`,
} satisfies ScriptDefinition;

/**
 * A score batch as one change (domain/score-batch.ts has the same rules). ARGV: most players, n,
 * then per entry: 'p' (by player id) or 'e' (by external key), that id or key, name ('' none),
 * folded name, score, and the fresh id for a player it creates ('' when Node found the key taken).
 * Every entry is checked before anything changes; refused entries answer
 * { 0, index, kind, detail, ... } (kinds as `EntryRefusal`; detail an entry index or a player
 * count, else 0). A fresh id in use refuses 'id_taken <entries>'; a key Node thought taken but
 * free now refuses 'stale' (Node looks again). Else one version, one log entry (`moved` the
 * union of each step's range; past MAX_MOVED_RANGES of them, `bulk` 'import'), and answers
 * { 1, version, then per entry its row as `ranked` gives it and created ('1' | '0') }. A batch
 * that changes no score changes nothing, version included.
 */
const scores = idempotentScript(`
local order, version = board()
local operator = redis.call('HGET', K_META, 'operator') or 'incr'
local max, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local size = redis.call('ZCARD', K_RANK)
local function after(current, value)
  if operator == 'incr' then return current + value end
  if operator == 'decr' then return current - value end
  if operator == 'set' then return value end
  if (order == 'desc' and value > current) or (order == 'asc' and value < current) then return value end
  return current
end
local function inRange(current, value)
  if math.abs(after(current, value)) > MAX_SCORE then return false end
  return not ((operator == 'set' or operator == 'best') and math.abs(value) > MAX_SCORE)
end
local problems, targets, taken = {}, {}, {}
local seenIds, seenKeys, seenNames, creating = {}, {}, {}, 0
local function problem(i, kind, detail)
  problems[#problems + 1] = i
  problems[#problems + 1] = kind
  problems[#problems + 1] = detail or 0
end
for i = 0, n - 1 do
  local b = 3 + i * 6
  local kind, ref, name, folded, value, fresh = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], tonumber(ARGV[b + 4]), ARGV[b + 5]
  local id = ref
  if kind == 'e' then id = redis.call('HGET', K_EXT, ref) end
  if id then
    local rec = redis.call('HGET', K_PLAYERS, id)
    if not rec then problem(i, 'unknown_player')
    elseif seenIds[id] then problem(i, 'duplicate', seenIds[id])
    else
      seenIds[id] = i
      if inRange(decode(rec), value) then targets[i] = id else problem(i, 'out_of_range') end
    end
  elseif seenKeys[ref] then problem(i, 'duplicate', seenKeys[ref])
  else
    seenKeys[ref] = i
    if name == '' then problem(i, 'name_required')
    elseif redis.call('HEXISTS', K_NAMES, folded) == 1 then problem(i, 'name_taken')
    elseif seenNames[folded] then problem(i, 'name_repeated', seenNames[folded])
    else
      seenNames[folded] = i
      creating = creating + 1
      if size + creating > max then problem(i, 'limit', size + creating)
      elseif fresh == '' then refuse('stale')
      else
        if redis.call('HEXISTS', K_PLAYERS, fresh) == 1 then taken[#taken + 1] = i end
        targets[i] = false
      end
    end
  end
end
if #problems > 0 then
  local out = { 0 }
  for j = 1, #problems do out[j + 1] = problems[j] end
  return out
end
if #taken > 0 then refuse('id_taken ' .. table.concat(taken, ',')) end
local v = version + 1
local ranges, ids, created, changed = {}, {}, {}, 0
for i = 0, n - 1 do
  local b = 3 + i * 6
  local value = tonumber(ARGV[b + 4])
  if targets[i] == false then
    local id, name, folded = ARGV[b + 5], ARGV[b + 2], ARGV[b + 3]
    local score = value
    if operator == 'decr' then score = 0 - value end
    place(order, id, score, v, name, folded)
    claimName(folded, id)
    redis.call('HSET', K_EXT, ARGV[b + 1], id)
    redis.call('HSET', K_EXTOF, id, ARGV[b + 1])
    ranges[#ranges + 1] = { positionOf(v, id), redis.call('ZCARD', K_RANK) - 1 }
    ids[i], created[i], changed = id, '1', changed + 1
  else
    local id = targets[i]
    local score, at, name, folded = player(id)
    local next = after(score, value)
    ids[i], created[i] = id, '0'
    if next ~= score then
      local from = positionOf(at, id)
      redis.call('ZREM', K_RANK, member(at, id))
      place(order, id, next, v, name, folded)
      local to = positionOf(v, id)
      if from <= to then ranges[#ranges + 1] = { from, to } else ranges[#ranges + 1] = { to, from } end
      changed = changed + 1
    end
  end
end
if changed > 0 then
  redis.call('HSET', K_META, 'version', int(v))
  table.sort(ranges, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  local merged = {}
  for _, r in ipairs(ranges) do
    local last = merged[#merged]
    if last and r[1] <= last[2] + 1 then
      if r[2] > last[2] then last[2] = r[2] end
    else
      merged[#merged + 1] = { r[1], r[2] }
    end
  end
  local meta = '0'
  if creating > 0 then meta = '1' end
  if #merged > ${MAX_MOVED_RANGES} then
    log(v, '', meta, 'bulk', 'import')
  else
    local parts = {}
    for j, r in ipairs(merged) do parts[j] = int(r[1]) .. '-' .. int(r[2]) end
    log(v, table.concat(parts, ','), meta)
  end
  version = v
end
local out = { 1, version }
for i = 0, n - 1 do
  local score, at, name = player(ids[i])
  local row = ranked(order, ids[i], score, at, name)
  for j = 1, 6 do out[#out + 1] = row[j] end
  out[#out + 1] = created[i]
end
return out
`);

/** Every script, by the name it is defined under on the client. */
export const SCRIPTS = {
  lbView: view,
  lbPages: pages,
  lbHeld: held,
  lbPlayer: playerView,
  lbPosition: position,
  lbProbe: probe,
  lbSearch: search,
  lbCreateBoard: createBoard,
  lbSeed: seed,
  lbAddPlayer: addPlayer,
  lbUpdatePlayer: updatePlayer,
  lbRemovePlayer: removePlayer,
  lbAddScore: addScore,
  lbScores: scores,
  lbReset: reset,
  lbImport: importPlayers,
  lbDeleteBoard: deleteBoard,
  lbRestoreChunk: restoreChunk,
  lbRestoreSeasonChunk: restoreSeasonChunk,
  lbRestoreCommit: restoreCommit,
  lbRegister: register,
} satisfies Record<string, ScriptDefinition>;

export type ScriptName = keyof typeof SCRIPTS;

/** The scripts made with `idempotentScript`: their calls carry the answer's key and arguments. */
export const IDEMPOTENT_SCRIPTS: ReadonlySet<string> = new Set<ScriptName>([
  'lbAddPlayer',
  'lbUpdatePlayer',
  'lbRemovePlayer',
  'lbAddScore',
  'lbReset',
  'lbDeleteBoard',
  'lbScores',
]);
