-- promoteJobs: delayed jobs -> waiting now, earliest due first.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] count: the most to move (<= 0 = all)
-- Returns: how many moved.  Events: waiting {jobId, prev: delayed} each.
-- @include base
local count = tonumber(ARGV[1])
local ids = redis.call('ZRANGE', delayedKey, 0, count > 0 and count - 1 or -1)
local moved = 0
for _, id in ipairs(ids) do
  local jobKey = prefix .. id
  redis.call('ZREM', delayedKey, id)
  if redis.call('EXISTS', jobKey) == 1 then
    promoteToWaiting(id, jobKey)
    moved = moved + 1
  end
end
if moved > 0 then
  signal()
end
return moved
