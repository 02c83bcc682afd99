--[[ Commits planned work for one recipient each, once, atomically: delivery records, lane entries, and the checks
  that must hold across worker processes (cancellation, event_id de-duplication, coalescing, per-user rate caps).
  KEYS[1]       ingest stream (entries are acknowledged here)
  KEYS[2]       delayed set (held deliveries and window ends wait here)
  KEYS[3 ...]   records, lanes, event, window and rate keys, referred to by index from the units
  ARGV[1]       intake group
  ARGV[2]       now (ms)
  ARGV[3]       unit count n
  ARGV[4 .. 3+n] one unit each, JSON (record and task JSON are ARGV indexes into what follows the units):
    id    notification id              r     record key index
    once  marker field: a unit whose marker exists was applied before (a re-read entry) and only acknowledges
    meta  meta JSON, written if absent (then the record expires after ttl ms); a unit without meta whose record has
          expired does nothing
    ack   ingest entry id to acknowledge, or ''
    recs  list of {field, record JSON index}, written as they are
    tasks list of {f: record field, rec: record JSON index (as queued), lane: key index, d: task JSON index, h: [n, since] (strings):
           when held, it comes back as ingest entry `task` = {"d": task, "n": n, "since": since} (src/domain/reentry.ts),
           defer?: {at, why}, rl?: {caps: list of {key index, limit, window ms, label}, id, drop, latest}}
    evt   {k: key index, ttl}: claim the event id for this notification (optional)
    co    {k: window key index, win, m: window-end member, item, c: {channel: content JSON}, dt, cap} (optional)
    del   list of key indexes: deleted (a closed window, consumed by this unit now or before)
  The tasks of a unit, in this order of precedence: notification cancelled → cancelled; event id owned by another
  notification → deduplicated; a window owned by another → coalesced (its content becomes the window's latest, and
  each of its tasks replaces or joins the window's task of the same record field, so the owner sends to every
  channel and device any folded notification asked for); no window → this one opens it and waits (deferred) for its end; defer → deferred until defer.at; over a rate cap →
  rate_limited (rl.drop, or when the cap frees later than rl.latest) or deferred until it frees; else queued on its
  lane and counted against each cap (ZADD NX: a re-run never counts twice).
  KEYS[last]    event stream (uses lib/events.lua): each record written appends its event (`accepted` for a meta
                written here, `delivery` for each delivery)
  Reply: per unit, 0 if it had been applied already, else the status each of its tasks ended in (queued, deferred,
  rate_limited, coalesced, deduplicated, cancelled), in order
]]
local now = tonumber(ARGV[2])
local delayed = KEYS[2]
local applied, acks = {}, {}

local function restatus(json, status, extra)
  local rec = cjson.decode(json)
  rec.status = status
  for k, v in pairs(extra) do rec[k] = v end
  return cjson.encode(rec)
end

local function mark_all(rk, tasks, status, extra)
  local out = {}
  for _, t in ipairs(tasks) do
    set_delivery(rk, t.f, restatus(t.rec, status, extra))
    out[#out + 1] = status
  end
  return out
end

local function hold(rk, t, at, why)
  set_delivery(rk, t.f, restatus(t.rec, 'deferred', { deferred_until = at, last_error = why }))
  redis.call('ZADD', delayed, at, KEYS[1] .. '\ntask\n{"d":' .. t.d .. ',"n":' .. t.h[1] .. ',"since":' .. t.h[2] .. '}')
  return 'deferred'
end

-- nil when every cap has room (or already counts this notification); else when the tightest one frees, and its label.
local function over_cap(rl)
  local at, label
  for _, c in ipairs(rl.caps) do
    local k, limit, win = KEYS[c[1]], c[2], c[3]
    redis.call('ZREMRANGEBYSCORE', k, '-inf', now - win)
    if not redis.call('ZSCORE', k, rl.id) then
      local n = redis.call('ZCARD', k)
      if n >= limit then
        local oldest = redis.call('ZRANGE', k, n - limit, n - limit, 'WITHSCORES')
        local free = tonumber(oldest[2]) + win
        if not at or free > at then at, label = free, c[4] end
      end
    end
  end
  return at, label
end

local function send(rk, t)
  if t.rl then
    local at, label = over_cap(t.rl)
    if at then
      local why = 'rate_limited: ' .. label
      if t.rl.drop or at > t.rl.latest then
        set_delivery(rk, t.f, restatus(t.rec, 'rate_limited', { last_error = why }))
        return 'rate_limited'
      end
      return hold(rk, t, at, why)
    end
    for _, c in ipairs(t.rl.caps) do
      redis.call('ZADD', KEYS[c[1]], 'NX', now, t.rl.id)
      redis.call('PEXPIRE', KEYS[c[1]], c[3])
    end
  end
  set_delivery(rk, t.f, t.rec)
  redis.call('XADD', KEYS[t.lane], '*', 'd', t.d)
  return 'queued'
end

-- Folds a unit's content and tasks into a window (the latest wins, per channel and per record field) and lists it
-- for a digest.
local function fold(wk, co, ttl, tasks)
  local n = redis.call('HINCRBY', wk, 'n', 1)
  for _, t in ipairs(tasks) do redis.call('HSET', wk, 't:' .. t.f, t.d) end
  for ch, content in pairs(co.c) do redis.call('HSET', wk, 'c:' .. ch, content) end
  if n <= co.cap then redis.call('HSET', wk, 'i:' .. n, co.item) end
  if co.dt then redis.call('HSET', wk, 'dt', co.dt) end
  redis.call('PEXPIRE', wk, ttl)
end

local function commit(unit, rk)
  for _, fv in ipairs(unit.recs) do set_delivery(rk, fv[1], fv[2]) end
  local tasks = unit.tasks
  if redis.call('HEXISTS', rk, 'cancelled') == 1 then
    return mark_all(rk, tasks, 'cancelled', {})
  end
  if unit.evt then
    local ek = KEYS[unit.evt.k]
    if not redis.call('SET', ek, unit.id, 'NX', 'PX', unit.evt.ttl) then
      local owner = redis.call('GET', ek)
      if owner and owner ~= unit.id then
        return mark_all(rk, tasks, 'deduplicated', { duplicate_of = owner, last_error = 'duplicate event_id of ' .. owner })
      end
    end
  end
  if #tasks == 0 then return {} end
  if unit.co then
    local co, wk = unit.co, KEYS[unit.co.k]
    local owner = redis.call('HGET', wk, 'owner')
    if owner and owner ~= unit.id then
      fold(wk, co, unit.ttl, tasks)
      return mark_all(rk, tasks, 'coalesced', { coalesced_into = owner, last_error = 'coalesced into ' .. owner })
    end
    local at = now + co.win
    local out = {}
    redis.call('HSET', wk, 'owner', unit.id)
    for _, t in ipairs(tasks) do
      set_delivery(rk, t.f, restatus(t.rec, 'deferred', { deferred_until = at, last_error = 'collapse_window' }))
      out[#out + 1] = 'deferred'
    end
    fold(wk, co, unit.ttl, tasks)
    redis.call('ZADD', delayed, at, co.m)
    return out
  end
  local out = {}
  for _, t in ipairs(tasks) do
    out[#out + 1] = t.defer and hold(rk, t, t.defer.at, t.defer.why) or send(rk, t)
  end
  return out
end

for u = 4, 3 + tonumber(ARGV[3]) do
  local unit = cjson.decode(ARGV[u])
  for _, fv in ipairs(unit.recs) do fv[2] = ARGV[fv[2]] end
  for _, t in ipairs(unit.tasks) do
    t.rec = ARGV[t.rec]
    t.d = ARGV[t.d]
  end
  local rk = KEYS[unit.r]
  local fresh = unit.meta ~= nil or redis.call('EXISTS', rk) == 1
  fresh = fresh and redis.call('HSETNX', rk, unit.once, '1') == 1
  local statuses = 0
  if fresh then
    if unit.meta and redis.call('HSETNX', rk, 'meta', unit.meta) == 1 then
      redis.call('PEXPIRE', rk, unit.ttl)
      emit(rk, 'accepted', nil, unit.meta)
    end
    statuses = commit(unit, rk)
  end
  -- What `del` names is consumed by this unit, applied now or before.
  for _, k in ipairs(unit.del or {}) do redis.call('DEL', KEYS[k]) end
  if unit.ack ~= '' then acks[#acks + 1] = unit.ack end
  applied[#applied + 1] = statuses
end
if #acks > 0 then redis.call('XACK', KEYS[1], ARGV[1], unpack(acks)) end
return applied
