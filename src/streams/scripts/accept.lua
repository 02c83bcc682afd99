--[[ Accepts notifications: writes each one's record, appends it to the ingest stream and completes its
  Idempotency-Key with the response, atomically, so a key is complete exactly when its notification is accepted.
  An item whose key another request completed meanwhile (its own reservation had expired) is not accepted again.
  KEYS[1]       ingest stream
  KEYS[2 ...]   records and idempotency keys, referred to by index from ARGV
  ARGV[1]       item count n
  ARGV[2 + 8(i-1) ...]  per item: record key index, record TTL (ms), meta JSON, payload JSON, traceparent ('' when
                none), idempotency key index ('' when none), completion JSON, completion TTL (ms)
  KEYS[last]    event stream (uses lib/events.lua): an `accepted` event per notification accepted
  Reply: per item, the ingest entry id, or {completion JSON} of the request that completed the key first
]]
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local b = 2 + (i - 1) * 8
  local idem = ARGV[b + 5] ~= '' and KEYS[tonumber(ARGV[b + 5])] or nil
  local held = idem and redis.call('GET', idem)
  if held and cjson.decode(held).state == 'done' then
    out[i] = { held }
  else
    local rec = KEYS[tonumber(ARGV[b])]
    redis.call('HSET', rec, 'meta', ARGV[b + 2])
    emit(rec, 'accepted', nil, ARGV[b + 2])
    redis.call('PEXPIRE', rec, ARGV[b + 1])
    -- src=api: the payload was validated here already (the intake trusts it).
    if ARGV[b + 4] ~= '' then
      out[i] = redis.call('XADD', KEYS[1], '*', 'payload', ARGV[b + 3], 'src', 'api', 'traceparent', ARGV[b + 4])
    else
      out[i] = redis.call('XADD', KEYS[1], '*', 'payload', ARGV[b + 3], 'src', 'api')
    end
    if idem then redis.call('SET', idem, ARGV[b + 6], 'PX', ARGV[b + 7]) end
  end
end
return out
