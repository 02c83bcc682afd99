--[[ Moves members of the delayed set whose time has come into their streams, atomically.
  KEYS[1]   delayed set
  ARGV[1]   now (ms)
  ARGV[2]   most members to move
  Members are "<stream key>\n<field>\n<value>". The target streams vary per member, so they are not
  declared in KEYS: this script needs a single Redis (or every key in one hash slot).
  Reply: number moved
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  local a = string.find(m, '\n', 1, true)
  local b = string.find(m, '\n', a + 1, true)
  redis.call('XADD', string.sub(m, 1, a - 1), '*', string.sub(m, a + 1, b - 1), string.sub(m, b + 1))
  redis.call('ZREM', KEYS[1], m)
end
return #due
