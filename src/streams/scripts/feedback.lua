--[[ Applies one piece of provider feedback (an SES event, a Twilio status callback) once, atomically: the
  delivery's feedback field `f:<dk>` (a weaker status never replaces a stronger one), and the tenant's suppression
  list for a hard bounce or a complaint. The delivery's own record `d:<dk>` is left to the channel actors, so a
  callback that arrives before the send outcome is recorded is not overwritten by it.
  KEYS[1]   notification record
  KEYS[2]   suppression hash of the tenant (member: sha256 of the address)
  KEYS[3]   marker of this piece of feedback (a redelivered one is not applied twice)
  KEYS[4]   event stream (uses lib/events.lua): a `feedback` event for each piece applied or kept (a kept one still
            counts, e.g. an Open after a Delivery, and the archiver applies the same rank rule)
  ARGV[1]   tenant named by the feedback
  ARGV[2]   delivery key
  ARGV[3]   feedback JSON ({event, at, status?, detail?, provider_message_id?})
  ARGV[4]   its rank (0: event only)
  ARGV[5]   marker TTL (ms)
  ARGV[6]   suppression entry JSON
  ARGV[7 ...] members to suppress
  Addresses are suppressed even when the record has expired: the tags that name the tenant are the service's own.
  Reply: {'duplicate'} | {'unknown'} (no such delivery for that tenant) | {'kept' | 'applied', delivery JSON}
]]
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[5]) then return { 'duplicate' } end
local meta = redis.call('HGET', KEYS[1], 'meta')
if meta and cjson.decode(meta).tenant ~= ARGV[1] then return { 'unknown' } end
for i = 7, #ARGV do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[6]) end
local rec = meta and redis.call('HGET', KEYS[1], 'd:' .. ARGV[2])
if not rec then return { 'unknown' } end
local field = 'f:' .. ARGV[2]
local rank = tonumber(ARGV[4])
local fb = cjson.decode(ARGV[3])
fb.rank = rank
local json = cjson.encode(fb)
emit(KEYS[1], 'feedback', ARGV[2], json)
local old = redis.call('HGET', KEYS[1], field)
if old and (tonumber(cjson.decode(old).rank) or 0) > rank then return { 'kept', rec } end
redis.call('HSET', KEYS[1], field, json)
return { 'applied', rec }
