--[[ Moves a notification record an older version kept under its id alone (`<p>:n:<id>`) to its tenant's key
  (`<p>:n:<tenant>:<id>`), atomically, so work still in flight for it (sends, retries, held deliveries, feedback)
  finds it there. The TTL goes with it. If the tenant's record exists already (a worker of this version planned an
  entry an older ingress accepted), the fields it lacks are copied into it and the old record is deleted.
  KEYS[1]   the old record
  KEYS[2]   the tenant's record
  ARGV[1]   tenant: the old record's meta must name it (else nothing is done)
  Reply: 0 (nothing moved), 1 (renamed), 2 (merged into the tenant's record)
]]
local meta = redis.call('HGET', KEYS[1], 'meta')
local ok, m = pcall(cjson.decode, meta or '')
if not ok or type(m) ~= 'table' or m.tenant ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do redis.call('HSETNX', KEYS[2], fields[i], fields[i + 1]) end
redis.call('DEL', KEYS[1])
return 2
