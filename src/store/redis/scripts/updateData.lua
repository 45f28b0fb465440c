-- updateData: replaces a job's data (no lock needed).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] data (JSON)
-- Returns: 0 done, -1 no such job.  No event (as BullMQ).
local jobKey = KEYS[1] .. ARGV[1]
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
redis.call('HSET', jobKey, 'data', ARGV[2])
return 0
