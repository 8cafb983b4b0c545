-- Take back one of our own pending entries for a retry after its backoff.
-- Slot: one key, the job stream.
-- KEYS[1] = stream; ARGV[1] = group, ARGV[2] = consumer, ARGV[3] = entry id.
-- A plain XCLAIM (not JUSTID) counts as a new delivery, so Redis' delivery counter is
-- the attempt number. If another worker took the entry over meanwhile (our backoff
-- outlasted the lease), it is theirs now: returns false. Else {deliveries, fields}.
local info = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not info[1] or info[1][2] ~= ARGV[2] then
  return false
end
local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3])
if not claimed[1] or not claimed[1][2] then
  return false -- deleted meanwhile; XCLAIM has dropped it from the pending list
end
return {info[1][4] + 1, claimed[1][2]}
