--[[ Removes a consumer from its group only if nothing is pending on it, in one step: XGROUP DELCONSUMER drops a
  consumer's pending entries from the group (nobody could claim them any more), so a consumer that read entries
  after the trimmer looked at it must be kept.
  KEYS[1]   stream
  ARGV[1]   group
  ARGV[2]   consumer
  Reply: 1 if removed, 0 if it holds pending entries
]]
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
