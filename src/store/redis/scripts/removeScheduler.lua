-- removeScheduler: removes a job scheduler and its pending job (when delayed or waiting, not active).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] scheduler id
-- Returns: 1 when the scheduler existed, else 0.
-- Events: removed {jobId, prev} for the pending job.
-- @include base
-- @include jobs
-- @include schedulers
local id = ARGV[1]
local schedulerKey = prefix .. 'repeat:' .. id
local existed = redis.call('EXISTS', schedulerKey) == 1
local pending = redis.call('HGET', schedulerKey, 'pendingJobId')
if pending then
  removePendingJob(pending)
end
redis.call('DEL', schedulerKey)
if redis.call('ZREM', prefix .. 'repeat', id) == 1 then
  existed = true
end
return existed and 1 or 0
