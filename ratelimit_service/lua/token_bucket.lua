-- One token-bucket decision, atomically.
-- Slot: one key.
-- KEYS[1] = bucket hash {tokens, ts}
-- ARGV[1] = capacity, ARGV[2] = refill tokens per second, ARGV[3] = cost,
-- ARGV[4] = peek (1: only report whether cost tokens are there; spend and store nothing)
-- Returns {allowed (0|1), remaining tokens (floor), retry-after in ms}
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local peek = ARGV[4] == '1'
-- Server time, so every caller shares one clock whatever its own drift.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
local retry_ms = 0
if tokens >= cost then
  if not peek then
    tokens = tokens - cost
  end
  allowed = 1
else
  retry_ms = math.ceil((cost - tokens) * 1000 / rate)
end
if peek then
  return {allowed, math.floor(tokens), retry_ms}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
-- A bucket refills completely after capacity/rate seconds; keep it no longer.
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return {allowed, math.floor(tokens), retry_ms}
