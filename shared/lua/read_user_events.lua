-- Where a user's event log stands, and (optionally) what came after a given event id.
-- Slot: one key (on a cluster in the user's slot, {ws:user:<userId>}:events).
-- KEYS[1] = events:user:<userId>
-- ARGV[1] = lastEventId the client saw, or '' for none
-- ARGV[2] = most entries to return (the newest ones win)
-- ARGV[3] = since when (ms) Redis holds its data (see shared.keys.REDIS_EPOCH), or ''
-- Returns {newest or '', truncated (0/1), id1, json1, id2, json2, ...} oldest first.
-- truncated = 1 when events after lastEventId may have been trimmed (the log holds no
-- entry at or before lastEventId and has lost entries, or is gone, or lastEventId is
-- older than the data Redis holds: events of before a data loss are gone) or when more
-- than ARGV[2] entries follow it.
local newest = ''
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then
  newest = last[1]
end
local reply = {newest, 0}
if ARGV[1] == '' then
  return reply
end
-- Nothing at or before lastEventId is left: what followed it may have been trimmed,
-- unless the stream never lost an entry (Redis 7 counts entries ever added).
if #redis.call('XRANGE', KEYS[1], '-', ARGV[1], 'COUNT', 1) == 0 then
  reply[2] = 1
  if last then
    local info = redis.call('XINFO', 'STREAM', KEYS[1])
    local fields = {}
    for i = 1, #info - 1, 2 do
      fields[info[i]] = info[i + 1]
    end
    local since = tonumber(ARGV[3])
    local after_ms = tonumber(string.match(ARGV[1], '^(%d+)'))
    -- ('0-0' asks for whatever the log holds: never older than the data)
    local older_than_data = since ~= nil and after_ms ~= nil and after_ms > 0 and after_ms < since
    if fields['entries-added'] == fields['length'] and not older_than_data then
      reply[2] = 0
    end
  end
end
local limit = tonumber(ARGV[2])
local entries = redis.call('XREVRANGE', KEYS[1], '+', '(' .. ARGV[1], 'COUNT', limit)
if #entries == limit and limit > 0 then
  local oldest = entries[#entries][1]
  if #redis.call('XREVRANGE', KEYS[1], '(' .. oldest, '(' .. ARGV[1], 'COUNT', 1) > 0 then
    reply[2] = 1
  end
end
for i = #entries, 1, -1 do
  local fields = entries[i][2]
  local json = ''
  for j = 1, #fields, 2 do
    if fields[j] == 'event' then
      json = fields[j + 1]
    end
  end
  reply[#reply + 1] = entries[i][1]
  reply[#reply + 1] = json
end
return reply
