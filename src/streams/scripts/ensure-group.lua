--[[ Creates a stream's consumer group if it is missing. When it recreates a lost group over entries already in the
  stream (the lost group may have handled them), it remembers the stream's last id then, so every consumer — not only
  the one whose call recreated the group — treats entries up to there as possibly handled.
  KEYS[1]   stream (created if missing)
  KEYS[2]   replay marker of this stream and group (string)
  ARGV[1]   group
  ARGV[2]   how long the marker is kept (ms)
  Reply: the marker (the last entry id when the group was recreated over entries), or nil
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    if g[2] == ARGV[1] then return redis.call('GET', KEYS[2]) end
  end
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if not last then
  redis.call('DEL', KEYS[2])
  return false
end
redis.call('SET', KEYS[2], last[1], 'PX', ARGV[2])
return last[1]
