-- getGroups: groups with their counts and settings, read in one step (BullMQ Pro's group getters).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] 'one': ARGV[2] = a group id (none when it has no record)
--         'range': ARGV[2], ARGV[3] = start, end (inclusive, -1 = to the end) of the groups in the
--         order first seen (<q>:gr:all)
-- Returns: a list of {id, waiting, active, paused, concurrency, max, duration, limited-until,
--          window-end, window-count} (absent settings as false).
-- @include base
local ids
if ARGV[1] == 'one' then
  ids = {}
  if redis.call('ZSCORE', prefix .. 'gr:all', ARGV[2]) then
    ids[1] = ARGV[2]
  end
else
  ids = redis.call('ZRANGE', prefix .. 'gr:all', ARGV[2], ARGV[3])
end
local out = {}
for i, gid in ipairs(ids) do
  local cfg = redis.call('HMGET', prefix .. 'gr:cfg:' .. gid, 'paused', 'concurrency', 'max', 'duration',
    'limited-until', 'window-end', 'window-count')
  out[i] = { gid, redis.call('ZCARD', prefix .. 'gr:w:' .. gid), redis.call('SCARD', prefix .. 'gr:a:' .. gid),
    cfg[1], cfg[2], cfg[3], cfg[4], cfg[5], cfg[6], cfg[7] }
end
return out
