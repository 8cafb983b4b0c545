-- Hand entries this consumer owns back to the group (a stopping worker): each keeps its
-- owner but gets an idle time of ARGV[3] ms (the lease), so the next XAUTOCLAIM of any
-- live worker takes it over at once instead of after a whole lease.
-- Slot: one key, the job stream.
-- KEYS[1] = stream; ARGV[1] = group, ARGV[2] = consumer, ARGV[3] = idle ms,
-- ARGV[4..] = entry ids. XCLAIM with IDLE does not count as a delivery.
local handed = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local info = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if info[1] and info[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'IDLE', ARGV[3], 'JUSTID')
    handed[#handed + 1] = id
  end
end
return handed
