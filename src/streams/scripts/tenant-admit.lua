--[[ Per-tenant admission at the ingress: token buckets kept in Redis, so they hold across ingress processes.
  The same maths as admit() in src/domain/tenant-limit.ts; the clock is Redis's own (TIME), so ingress hosts whose
  clocks differ still share one bucket. Requests are taken in order; each takes all its tokens or none.
  KEYS[i]   bucket hash of request i's tenant (fields `tokens`, `at`); a key may appear more than once
  ARGV      per request i: rate (tokens per second), burst, cost
  Reply     per request: 0 admitted; a positive number: ms until its tokens are there; -1: cost > burst (never)
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[3 * i - 2])
  local burst = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  if cost > burst then
    out[i] = -1
  else
    local s = redis.call('HMGET', key, 'tokens', 'at')
    local tokens, at = burst, now
    if s[1] and s[2] then
      local last = tonumber(s[2])
      tokens = math.min(burst, tonumber(s[1]) + math.max(0, now - last) * rate / 1000)
      at = math.max(now, last)
    end
    if tokens >= cost then
      tokens = tokens - cost
      redis.call('HSET', key, 'tokens', string.format('%.6f', tokens), 'at', at)
      -- Gone once it would be full again: a missing bucket is a full one.
      redis.call('PEXPIRE', key, math.ceil((burst - tokens) * 1000 / rate) + 1000)
      out[i] = 0
    else
      out[i] = math.max(1, math.ceil((cost - tokens) * 1000 / rate))
    end
  end
end
return out
