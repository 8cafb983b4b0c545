-- Move one pending entry to the dead-letter stream, atomically with its removal.
-- Slot: the job stream's; on a cluster KEYS[2..4] carry the hash tag {stream:ai:jobs}
-- (shared/keys.py).
-- KEYS[1] = job stream, KEYS[2] = DLQ stream (stream:ai:jobs:dlq),
-- KEYS[3] = the entry's attempts list, KEYS[4] (optional) = the job's stored result
-- (worker:result:<taskId>).
-- ARGV[1] = group, ARGV[2] = consumer, ARGV[3] = entry id, ARGV[4] = errorCode,
-- ARGV[5] = lastError, ARGV[6] = what became of the failure callback.
-- Only the consumer that owns the entry may dead-letter it (a worker whose lease lapsed
-- must not pull an entry away from the worker now running it). Returns
-- {dlq id, deliveries} or false when the entry is not ours (or no longer pending).
local info = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not info[1] or info[1][2] ~= ARGV[2] then
  return false
end
local deliveries = info[1][4]
local args = {}
local entry = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
if entry[1] then
  for _, value in ipairs(entry[1][2]) do
    args[#args + 1] = value
  end
end
local history = redis.call('LRANGE', KEYS[3], 0, -1)
local ours = {
  'sourceId', ARGV[3],
  'errorCode', ARGV[4],
  'lastError', ARGV[5],
  'deliveries', tostring(deliveries),
  'attempts', '[' .. table.concat(history, ',') .. ']',
  'failureCallback', ARGV[6],
}
for _, value in ipairs(ours) do
  args[#args + 1] = value
end
local dlq_id = redis.call('XADD', KEYS[2], '*', unpack(args))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('DEL', KEYS[3])
if KEYS[4] then
  redis.call('DEL', KEYS[4])
end
return {dlq_id, deliveries}
