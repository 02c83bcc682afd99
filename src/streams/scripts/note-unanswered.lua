--[[ Notes on a delivery's record that its send got no answer within the send timeout (the request is still listened
  to for a late answer), only while the lane entry is pending on this consumer: once another consumer has taken the
  entry over (this one stalled past the claim idle time), that consumer's record counts and is left alone.
  KEYS[1]   lane stream
  KEYS[2]   notification record
  ARGV[1]   send group
  ARGV[2]   consumer
  ARGV[3]   entry id
  ARGV[4]   delivery field
  ARGV[5]   delivery JSON
  KEYS[3]   event stream (uses lib/events.lua): the record's `delivery` event
  A record that has expired is not recreated.
  Reply: 1 if written, else 0
]]
if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
set_delivery(KEYS[2], ARGV[4], ARGV[5])
return 1
