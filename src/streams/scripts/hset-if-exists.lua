--[[ Sets hash fields only if the hash exists (a device or preference is never attached to a deleted user).
  KEYS[1]   hash
  ARGV      field, value, field, value, ...
  Reply: 1 if written, 0 if the hash does not exist
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
