-- Log one event of a user and deliver it to every ws_service instance holding a socket
-- of the user, atomically: whoever reads the log after this script sees the event, and
-- every instance registered before it runs gets it live.
-- KEYS[1] = ws:user:<userId> (hash socketId -> instanceId)
-- KEYS[2] = events:user:<userId> (stream; entry id = eventId, field "event" = JSON)
-- ARGV[1] = channel prefix (ws:instance:), ARGV[2] = userId JSON string,
-- ARGV[3] = event JSON (an object, without eventId),
-- ARGV[4] = most entries kept, ARGV[5] = oldest entry kept, in milliseconds of age
-- Returns {eventId, number of instances the event was published to}.
local id = redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], '*', 'event', ARGV[3])
local max_age_ms = tonumber(ARGV[5])
local cutoff = tonumber(string.match(id, '^(%d+)-')) - max_age_ms
if cutoff > 0 then
  redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', cutoff))
end
-- A user with no new event for max age has nothing worth keeping.
redis.call('PEXPIRE', KEYS[2], max_age_ms)

local envelope = '{"userId":' .. ARGV[2] .. ',"eventId":"' .. id .. '","event":' .. ARGV[3] .. '}'
local instances = redis.call('HVALS', KEYS[1])
local seen = {}
local sent = 0
for _, instance in ipairs(instances) do
  if not seen[instance] then
    seen[instance] = true
    redis.call('PUBLISH', ARGV[1] .. instance, envelope)
    sent = sent + 1
  end
end
return {id, sent}
