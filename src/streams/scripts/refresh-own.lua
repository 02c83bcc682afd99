--[[ Keeps a consumer's in-hand entries fresh (idle time reset, delivery count unchanged: XCLAIM … JUSTID), but
  only those still pending on that consumer: an entry another consumer claimed meanwhile (this one stalled past the
  claim idle time) is left to its new owner, not taken back.
  KEYS[1]       stream
  ARGV[1]       group
  ARGV[2]       consumer
  ARGV[3 ...]   entry ids
  Reply: the ids that are no longer pending on this consumer (lost: claimed by another, or acknowledged)
]]
local lost = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if #redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1, ARGV[2]) == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
  else
    lost[#lost + 1] = id
  end
end
return lost
