--[[ Reads what the user actors of one event-loop turn need before they plan, in one round trip: users, templates
  (each named once per call) and the owners of event ids. Read-only.
  KEYS[1 .. u]            user hashes
  KEYS[u+1 .. u+t]        templates (strings)
  KEYS[u+t+1 .. #KEYS]    event-id keys
  ARGV[1]                 u
  ARGV[2]                 t
  Reply: {users, templates, events}: per user the flat HGETALL (empty when there is none), per template its JSON
  (nil when missing), per event key its owner (nil when unclaimed)
]]
local u, t = tonumber(ARGV[1]), tonumber(ARGV[2])
local users, templates, events = {}, {}, {}
for i = 1, u do users[i] = redis.call('HGETALL', KEYS[i]) end
for i = 1, t do templates[i] = redis.call('GET', KEYS[u + i]) end
for i = u + t + 1, #KEYS do events[i - u - t] = redis.call('GET', KEYS[i]) end
return { users, templates, events }
