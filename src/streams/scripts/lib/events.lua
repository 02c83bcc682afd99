-- Prepended to every script whose header says "uses lib/events.lua" (src/streams/scripts.ts). The status event stream
-- (src/history/events.ts): each change of a notification or delivery record appends one entry, in the same script that
-- writes the record, so the record and its event are one atomic step. The stream is the script's last key.
local EVENTS = KEYS[#KEYS]
if string.sub(EVENTS, -7) ~= ':events' then return redis.error_reply('the last key must be the event stream') end

-- A record's tenant, notification id and created_at (ms, as a string), from its meta; false once it is gone (a record
-- that expired is not recreated, and has no events). Ids and tenants never contain ':', so the id ends the key.
local record_facts = {}
local function facts(rk)
  local f = record_facts[rk]
  if f == nil then
    f = false
    local meta = redis.call('HGET', rk, 'meta')
    local m = meta and cjson.decode(meta)
    -- A meta without a tenant (only tests write one) is nobody's: its changes have no events.
    if m and type(m.tenant) == 'string' then
      f = { m.tenant, string.match(rk, '([^:]+)$'), string.format('%.0f', tonumber(m.created_at) or 0) }
    end
    record_facts[rk] = f
  end
  return f
end

-- Appends one event about record `rk` (kind, delivery key or nil, the kind's JSON).
local function emit(rk, kind, key, data)
  local f = facts(rk)
  if not f then return end
  if key then
    redis.call('XADD', EVENTS, '*', 't', f[1], 'n', f[2], 'c', f[3], 'e', kind, 'k', key, 'd', data)
  else
    redis.call('XADD', EVENTS, '*', 't', f[1], 'n', f[2], 'c', f[3], 'e', kind, 'd', data)
  end
end

-- Writes a delivery's record (field d:<key>) with its event.
local function set_delivery(rk, field, json)
  redis.call('HSET', rk, field, json)
  emit(rk, 'delivery', string.sub(field, 3), json)
end
