--[[ Merges a patch into a user's profile (PATCH /v1/users/{id}) in one step, so concurrent patches of different
  fields never lose one another and a deleted user is never brought back.
  KEYS[1]   user hash (field `profile`: the profile's JSON)
  ARGV[1]   the patch, a JSON object: field -> new value, or null to remove the field (only the profile's own
            fields: the caller has validated it)
  ARGV[2]   updated_at (ISO 8601), set when the patch names at least one field
  Reply: HGETALL of the user hash after the merge, or false when the user does not exist
]]
local current = redis.call('HGET', KEYS[1], 'profile')
if not current then return false end
local patch = cjson.decode(ARGV[1])
if next(patch) ~= nil then
  local profile = cjson.decode(current)
  for field, value in pairs(patch) do
    if value == cjson.null then profile[field] = nil else profile[field] = value end
  end
  profile.updated_at = ARGV[2]
  redis.call('HSET', KEYS[1], 'profile', cjson.encode(profile))
end
return redis.call('HGETALL', KEYS[1])
