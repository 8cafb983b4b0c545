-- Forget that a text is being verified, but only if this task still leads it
-- (after an expiry another task may lead a newer job for the same text).
-- Slot: one key.
-- KEYS[1] = inflight:<textHash>, ARGV[1] = leader taskId
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
