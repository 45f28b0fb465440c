-- removeScheduler: removes a job scheduler and its current iteration's job when that is delayed (as
-- BullMQ: a waiting or running one stays).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] scheduler id
-- Returns: 1 when the scheduler existed, else 0.
-- Events: removed {jobId, prev: delayed} for the removed job.
-- @include base
-- @include jobs
-- @include schedulers
local id = ARGV[1]
local schedulerKey = prefix .. 'repeat:' .. id
local millis = tonumber(redis.call('ZSCORE', prefix .. 'repeat', id))
if millis then
  local jobId = schedulerJobId(id, millis)
  if redis.call('ZSCORE', delayedKey, jobId) then
    removeJobIn(queueName, jobId)
  end
end
local existed = redis.call('EXISTS', schedulerKey) == 1
redis.call('DEL', schedulerKey)
if redis.call('ZREM', prefix .. 'repeat', id) == 1 then
  existed = true
end
return existed and 1 or 0
