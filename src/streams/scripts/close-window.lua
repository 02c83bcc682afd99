--[[ Closes a coalescing window at its end and returns what it holds. From here on, notifications with the same
  collapse key open a new window; the closed one is kept under its owner's name until the flush that sends it
  deletes it (commit-plan.lua `del`), so a flush read twice finds the same state.
  KEYS[1]   the open window (hash)
  KEYS[2]   the closed window of this owner
  ARGV[1]   owner (notification id)
  Reply: HGETALL of the closed window (empty when there is none)
]]
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('RENAME', KEYS[1], KEYS[2]) end
return redis.call('HGETALL', KEYS[2])
