-- changeDelay: re-times a delayed job to now + delay.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] delay (ms)   ARGV[3] now (ms)
-- Returns: 0 done, -1 no such job, -3 not delayed.  Events: delayed {jobId, delay = due timestamp}.
-- @include base
local id = ARGV[1]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
if not redis.call('ZSCORE', delayedKey, id) then
  return -3
end
local delay = tonumber(ARGV[2])
local due = tonumber(ARGV[3]) + delay
redis.call('HSET', jobKey, 'delay', int(delay))
addToDelayed(id, due)
emit('delayed', 'jobId', id, 'delay', int(due))
-- Blocked workers recompute when to wake.
signal()
return 0
