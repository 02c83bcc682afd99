--[[ Deletes a key only if it still holds the given value (gives back an Idempotency-Key reservation that is ours).
  KEYS[1]   key
  ARGV[1]   expected value
  Reply: 1 if deleted, 0 if it held something else (or nothing)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
