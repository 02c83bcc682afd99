--[[ Holds scheduled notifications until their send_at: each entry is parked in the delayed set (to come back into
  the ingest stream at its time) and acknowledged, atomically. A cancelled notification is only acknowledged.
  KEYS[1]       ingest stream
  KEYS[2]       delayed set
  KEYS[3 ...]   notification records, referred to by index from ARGV
  ARGV[1]       intake group
  ARGV[2]       item count
  then per item (6 values): record key index, meta JSON, record TTL (ms, when this creates the record),
    due time (ms), delayed member, entry id
  KEYS[last]    event stream (uses lib/events.lua): an `accepted` event for a meta written here
  The record's field `s` names the member, so a cancel can take it back out of the delayed set.
  Reply: per item, 1 if parked, 0 if cancelled
]]
local out, acks = {}, {}
local i = 3
for n = 1, tonumber(ARGV[2]) do
  local rec = KEYS[tonumber(ARGV[i])]
  if redis.call('HEXISTS', rec, 'cancelled') == 1 then
    out[n] = 0
  else
    if redis.call('HSETNX', rec, 'meta', ARGV[i + 1]) == 1 then
      redis.call('PEXPIRE', rec, ARGV[i + 2])
      emit(rec, 'accepted', nil, ARGV[i + 1])
    end
    redis.call('HSET', rec, 's', ARGV[i + 4])
    redis.call('ZADD', KEYS[2], ARGV[i + 3], ARGV[i + 4])
    out[n] = 1
  end
  acks[#acks + 1] = ARGV[i + 5]
  i = i + 6
end
redis.call('XACK', KEYS[1], ARGV[1], unpack(acks))
return out
