--[[ Moves dead letters back onto their streams, each exactly once: an entry is re-added only if this call
  deleted it from the dead-letter stream (two concurrent redrives cannot both succeed).
  KEYS[1]       dead-letter stream
  KEYS[2 ...]   target streams and notification records, referred to by index from ARGV
  ARGV[1]       item count
  then per item: dead entry id, target stream index, field count f, f × (field, value),
    record index ('' for none), record field, record JSON ('' to delete the field)
  KEYS[last]    event stream (uses lib/events.lua): a `delivery` event for a record reset, `not_planned` {cleared} for a
                notification planned again
  Reply: per item, 1 if redriven, 0 if it was no longer there
]]
local i = 2
local out = {}
for n = 1, tonumber(ARGV[1]) do
  local id = ARGV[i]
  local target = KEYS[tonumber(ARGV[i + 1])]
  local f = tonumber(ARGV[i + 2])
  local fields = {}
  for k = 0, 2 * f - 1 do fields[#fields + 1] = ARGV[i + 3 + k] end
  i = i + 3 + 2 * f
  local rec = ARGV[i]
  if redis.call('XDEL', KEYS[1], id) == 1 then
    redis.call('XADD', target, '*', unpack(fields))
    if rec ~= '' and ARGV[i + 2] == '' then
      if redis.call('HDEL', KEYS[tonumber(rec)], ARGV[i + 1]) == 1 and ARGV[i + 1] == 'np' then
        emit(KEYS[tonumber(rec)], 'not_planned', nil, cjson.encode({ cleared = true, at = ARGV[#ARGV] }))
      end
    elseif rec ~= '' and redis.call('EXISTS', KEYS[tonumber(rec)]) == 1 then
      if string.sub(ARGV[i + 1], 1, 2) == 'd:' then
        set_delivery(KEYS[tonumber(rec)], ARGV[i + 1], ARGV[i + 2])
      else
        redis.call('HSET', KEYS[tonumber(rec)], ARGV[i + 1], ARGV[i + 2])
      end
    end
    out[n] = 1
  else
    out[n] = 0
  end
  i = i + 3
end
return out
