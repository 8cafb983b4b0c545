-- Log one event of a user and deliver it to every ws_service instance holding a socket
-- of the user, atomically: whoever reads the log after this script sees the event, and
-- every instance registered before it runs gets it live.
-- A task's final event is logged and published once: delivery to here is at least once
-- (outbox relay after a crash, client retry after a lost reply, sweeper), so a repeat
-- of a taskId already logged changes nothing and answers the first eventId.
-- Slot: the user's; on a cluster KEYS[2..4] carry the hash tag {ws:user:<userId>}
-- (shared/keys.py); the channels published to are not keys.
-- KEYS[1] = ws:user:<userId> (hash socketId -> instanceId)
-- KEYS[2] = events:user:<userId> (stream; entry id = eventId, field "event" = JSON)
-- KEYS[3] = events:user:<userId>:tasks (hash taskId -> eventId of its final event)
-- KEYS[4] = events:user:<userId>:tasks:age (sorted set of those taskIds by eventId ms)
-- ARGV[1] = channel prefix (ws:instance:), ARGV[2] = userId JSON string,
-- ARGV[3] = event JSON (an object, without eventId),
-- ARGV[4] = most entries kept, ARGV[5] = oldest entry kept, in milliseconds of age,
-- ARGV[6] = taskId whose final event this is ("": not a final event, never deduplicated)
-- ARGV[7] = W3C traceparent to put on the envelope ("": none); never logged with the event
-- Returns {eventId, number of instances the event was published to, 1 if a repeat}.
local task = ARGV[6]
if task ~= '' then
  local known = redis.call('HGET', KEYS[3], task)
  if known then
    return {known, 0, 1}
  end
end

local id = redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], '*', 'event', ARGV[3])
local ms = string.match(id, '^(%d+)-')
local max_age_ms = tonumber(ARGV[5])
local cutoff = tonumber(ms) - max_age_ms
if task ~= '' then
  redis.call('HSET', KEYS[3], task, id)
  redis.call('ZADD', KEYS[4], ms, task)
end
if cutoff > 0 then
  local floor = string.format('%d', cutoff)
  redis.call('XTRIM', KEYS[2], 'MINID', floor)
  -- The taskIds are remembered as long as the log keeps events by age (even past its
  -- length cap). A TTL alone would not bound them: an active user refreshes it forever.
  -- At most 100 per call keeps each call short; every call adds at most one.
  local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. floor, 'LIMIT', 0, 100)
  if #old > 0 then
    redis.call('HDEL', KEYS[3], unpack(old))
    redis.call('ZREM', KEYS[4], unpack(old))
  end
end
-- A user with no new event for max age has nothing worth keeping.
redis.call('PEXPIRE', KEYS[2], max_age_ms)
redis.call('PEXPIRE', KEYS[3], max_age_ms)
redis.call('PEXPIRE', KEYS[4], max_age_ms)

local trace = ''
if ARGV[7] and string.match(ARGV[7], '^[0-9a-f%-]+$') then
  trace = ',"traceparent":"' .. ARGV[7] .. '"'
end
local envelope = '{"userId":' .. ARGV[2] .. ',"eventId":"' .. id .. '"' .. trace .. ',"event":' .. ARGV[3] .. '}'
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
return {id, sent, 0}
