-- Deliver one event to every ws_service instance that holds a socket of the user.
-- KEYS[1] = ws:user:<userId> (hash socketId -> instanceId)
-- ARGV[1] = channel prefix (ws:instance:), ARGV[2] = event JSON ({userId, event})
-- Returns the number of instances the event was published to.
local instances = redis.call('HVALS', KEYS[1])
local seen = {}
local sent = 0
for _, instance in ipairs(instances) do
  if not seen[instance] then
    seen[instance] = true
    redis.call('PUBLISH', ARGV[1] .. instance, ARGV[2])
    sent = sent + 1
  end
end
return sent
