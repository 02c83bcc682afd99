--[[ Records send outcomes and acknowledges their lane entries, atomically. A retry is parked in the delayed
  set; a delivery out of attempts is appended to the dead-letter stream; a dead device token is deactivated.
  KEYS[1]       lane stream
  KEYS[2]       delayed set
  KEYS[3]       dead-letter stream
  KEYS[4 ...]   notification records and user hashes, referred to by index from ARGV
  ARGV[1]       send group
  ARGV[2]       lane name
  ARGV[3]       unit count
  ARGV[4]       now (ms)
  ARGV[5]       consumer committing the outcomes
  then per unit (11 values):
    record key index, entry id, delivery field, delivery JSON,
    retry due time ms ('' for none), delayed member,
    dead-letter reason ('' for none), dead-letter payload,
    user key index ('' for none), dead device token, token dead since ms ('' when unknown)
  KEYS[last]    event stream (uses lib/events.lua): a `delivery` event per record written
  A record that has expired is not recreated. A device registered after the provider's "dead since" time is
  kept: it was re-registered, so the token is alive again (APNs 410 rule).
  A unit whose entry is no longer pending on this consumer is skipped entirely: another consumer took it over
  (this one stalled past the claim idle time) and that consumer's outcome is the one that counts, so a stale
  timeout here cannot schedule yet another send.
  Reply: number of entries acknowledged (units skipped = unit count - reply)
]]
local ids = {}
local i = 6
local now = tonumber(ARGV[4])
for u = 1, tonumber(ARGV[3]) do
  local entry = ARGV[i + 1]
  if #redis.call('XPENDING', KEYS[1], ARGV[1], entry, entry, 1, ARGV[5]) == 1 then
    local rec = KEYS[tonumber(ARGV[i])]
    if redis.call('EXISTS', rec) == 1 then
      set_delivery(rec, ARGV[i + 2], ARGV[i + 3])
    end
    if ARGV[i + 4] ~= '' then
      redis.call('ZADD', KEYS[2], ARGV[i + 4], ARGV[i + 5])
    end
    if ARGV[i + 6] ~= '' then
      redis.call('XADD', KEYS[3], '*', 'kind', 'delivery', 'lane', ARGV[2], 'reason', ARGV[i + 6], 'payload', ARGV[i + 7])
    end
    if ARGV[i + 8] ~= '' then
      local user = KEYS[tonumber(ARGV[i + 8])]
      local field = 'dev:' .. ARGV[i + 9]
      local raw = redis.call('HGET', user, field)
      if raw then
        local device = cjson.decode(raw)
        local since = tonumber(ARGV[i + 10])
        if device.active and (since == nil or tonumber(device.registered_at) <= since) then
          device.active = false
          device.deactivated_at = now
          device.deactivated_reason = 'provider reported the token unregistered'
          redis.call('HSET', user, field, cjson.encode(device))
        end
      end
    end
    ids[#ids + 1] = ARGV[i + 1]
  end
  i = i + 11
end
if #ids == 0 then return 0 end
return redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
