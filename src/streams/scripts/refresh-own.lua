--[[ Keeps a consumer's in-hand entries fresh (idle time reset, delivery count unchanged: XCLAIM … JUSTID), but
  only those still pending on that consumer: an entry another consumer claimed meanwhile (this one stalled past the
  claim idle time) is left to its new owner, not taken back.
  KEYS[1]       stream
  ARGV[1]       group
  ARGV[2]       consumer
  ARGV[3 ...]   entry ids
  Reply: {taken, gone}: the ids now pending on another consumer (taken over), and the ids no longer pending at all
  (acknowledged: their handler finished)
]]
local taken, gone = {}, {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)[1]
  if not p then
    gone[#gone + 1] = id
  elseif p[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
  else
    taken[#taken + 1] = id
  end
end
return { taken, gone }
