--[[ Cancels a notification's deliveries that have not been handed to a provider lane, atomically: held ones
  (deferred) become cancelled, a parked schedule is taken out of the delayed set, and the mark `cancelled` makes
  commit-plan.lua cancel whatever of it is planned later (recipients still to come, held deliveries coming back).
  KEYS[1]   notification record
  KEYS[2]   delayed set
  KEYS[3]   event stream (uses lib/events.lua): a `delivery` event per delivery cancelled, then `cancelled`
  ARGV[1]   tenant (another tenant's notification is not found)
  ARGV[2]   now (ms)
  ARGV[3]   now (ISO 8601, for the records' updated_at)
  Reply: 'not_found', 'already' (cancelled before), 'not_cancellable' (everything is being sent or was sent),
    or 'cancelled'
]]
local meta = redis.call('HGET', KEYS[1], 'meta')
if not meta or cjson.decode(meta).tenant ~= ARGV[1] then return 'not_found' end
if redis.call('HEXISTS', KEYS[1], 'cancelled') == 1 then return 'already' end
local recipients = tonumber(cjson.decode(meta).recipients) or 1
-- Its ingest entry was dead-lettered: no recipient is still to be planned.
if redis.call('HEXISTS', KEYS[1], 'np') == 1 then recipients = 0 end
local fields = redis.call('HGETALL', KEYS[1])
local planned, held = 0, {}
for i = 1, #fields, 2 do
  local f = fields[i]
  if string.sub(f, 1, 2) == 'p:' then
    planned = planned + 1
  elseif string.sub(f, 1, 2) == 'd:' then
    local rec = cjson.decode(fields[i + 1])
    if rec.status == 'deferred' then held[#held + 1] = { f, rec } end
  end
end
local parked = redis.call('HGET', KEYS[1], 's')
parked = parked and redis.call('ZSCORE', KEYS[2], parked) and parked
if not parked and planned >= recipients and #held == 0 then return 'not_cancellable' end
if parked then redis.call('ZREM', KEYS[2], parked) end
for _, fr in ipairs(held) do
  local rec = fr[2]
  rec.status = 'cancelled'
  rec.deferred_until = nil
  rec.last_error = 'cancelled'
  rec.updated_at = ARGV[3]
  set_delivery(KEYS[1], fr[1], cjson.encode(rec))
end
redis.call('HSET', KEYS[1], 'cancelled', ARGV[2])
emit(KEYS[1], 'cancelled', nil, '{"cancelled_at":' .. ARGV[2] .. '}')
return 'cancelled'
