-- promote: one delayed job -> waiting now.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id
-- Returns: 0 done, -1 no such job, -3 not delayed.  Events: waiting {jobId, prev: delayed}.
-- @include base
local id = ARGV[1]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
if redis.call('ZREM', delayedKey, id) == 0 then
  return -3
end
promoteToWaiting(id, jobKey)
signal()
return 0
