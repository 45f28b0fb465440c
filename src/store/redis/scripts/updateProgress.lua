-- updateProgress: stores a job's progress (no lock needed).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] progress (JSON)
-- Returns: 0 done, -1 no such job.  Events: progress {jobId, data}.
-- @include base
local jobKey = prefix .. ARGV[1]
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
redis.call('HSET', jobKey, 'progress', ARGV[2])
emit('progress', 'jobId', ARGV[1], 'data', ARGV[2])
return 0
