--[[ Moves one entry to the dead-letter stream, acknowledges it and marks what became of it on its notification
  record, atomically: a dead-lettered entry always leaves a terminal state behind (a delivery `failed`, or a
  notification that could not be planned), never a record that says `queued` or `accepted` forever.
  KEYS[1]   source stream
  KEYS[2]   dead-letter stream
  KEYS[3]   notification record (only with a mark)
  KEYS[last] event stream (uses lib/events.lua): a `delivery` event per delivery failed, `not_planned` for a mark
  ARGV[1]   group
  ARGV[2]   consumer: the entry must still be pending on it (else another consumer has it and decides)
  ARGV[3]   entry id
  ARGV[4]   now (ISO 8601, for updated_at / at)
  ARGV[5]   mark: '' (none), 'delivery' (one delivery field), 'held' (a user's held deliveries), 'notification'
  ARGV[6]   delivery field ('delivery') or user id ('held')
  ARGV[7]   tenant the record must belong to
  ARGV[8]   reason, ARGV[9] error (shown as the delivery's last_error / the notification's not_planned)
  ARGV[10 ...]  the dead letter's fields and values
  A record that is gone is not recreated; a delivery already terminal (sent, failed, cancelled…) is left as it is.
  Reply: the dead letter's id, or false when the entry is no longer pending on this consumer (nothing done)
]]
local entry = ARGV[3]
if #redis.call('XPENDING', KEYS[1], ARGV[1], entry, entry, 1, ARGV[2]) == 0 then return false end
local fields = {}
for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XACK', KEYS[1], ARGV[1], entry)
local mark = ARGV[5]
if mark == '' then return id end
local rec = KEYS[3]
local meta = redis.call('HGET', rec, 'meta')
if not meta or cjson.decode(meta).tenant ~= ARGV[7] then return id end
local why = ARGV[8] .. ': ' .. ARGV[9]
local open = { queued = true, retrying = true, deferred = true }
local function fail(field, raw)
  local d = cjson.decode(raw)
  if not open[d.status] then return end
  d.status = 'failed'
  d.deferred_until = nil
  d.last_error = why
  d.updated_at = ARGV[4]
  set_delivery(rec, field, cjson.encode(d))
end
if mark == 'delivery' then
  local raw = redis.call('HGET', rec, ARGV[6])
  if raw then fail(ARGV[6], raw) end
elseif mark == 'held' then
  -- A coalescing window's end that could not be handled: its owner's deliveries for that user wait for nothing now.
  local all = redis.call('HGETALL', rec)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'd:' then
      local d = cjson.decode(all[i + 1])
      if d.user_id == ARGV[6] and d.status == 'deferred' then fail(all[i], all[i + 1]) end
    end
  end
elseif mark == 'notification' then
  local np = cjson.encode({ reason = ARGV[8], message = ARGV[9], dead_letter_id = id, at = ARGV[4] })
  redis.call('HSET', rec, 'np', np)
  emit(rec, 'not_planned', nil, np)
end
return id
