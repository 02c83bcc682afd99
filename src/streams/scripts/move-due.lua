--[[ Moves members of the delayed set whose time has come into their streams, atomically.
  KEYS[1]   delayed set
  ARGV[1]   now (ms)
  ARGV[2]   most members to move
  Members are "<stream key>\n<field>\n<value>[\n<field>\n<value>…]" (values are JSON, ids or W3C traceparents: no
  newline; src/domain/reentry.ts refuses any other).
  The target streams vary per member, so they are not declared in KEYS: this script needs a single Redis (or every
  key in one hash slot).
  Reply: number moved
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  local parts, from = {}, 1
  while true do
    local at = string.find(m, '\n', from, true)
    if not at then
      parts[#parts + 1] = string.sub(m, from)
      break
    end
    parts[#parts + 1] = string.sub(m, from, at - 1)
    from = at + 1
  end
  redis.call('XADD', parts[1], '*', unpack(parts, 2))
  redis.call('ZREM', KEYS[1], m)
end
return #due
