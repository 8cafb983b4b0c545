-- Reset the idle time of pending entries this consumer still owns (the lease heartbeat).
-- Slot: one key, the job stream.
-- KEYS[1] = stream; ARGV[1] = group, ARGV[2] = consumer, ARGV[3..] = entry ids.
-- Checking the owner and claiming in one script means an entry another worker has
-- already taken over (after our lease lapsed) is never pulled back.
local refreshed = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local info = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if info[1] and info[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
    refreshed[#refreshed + 1] = id
  end
end
return refreshed
