-- scheduleNext: advances a job scheduler from the iteration due at prevMillis (compare-and-set).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] scheduler id   ARGV[2] prevMillis   ARGV[3] '1' when a job follows, '0' for none
-- ARGV[4..12] the job (includes/jobs.lua layout; its id is given)
-- Only when the scheduler exists and its `next` equals prevMillis: adds the job (unless its id
-- exists), records its due time as `next` (none: the scheduler stays, idle), bumps iterationCount.
-- Returns: the job id; nil when nothing changed (or no job was given).
-- @include base
-- @include jobs
-- @include schedulers
local id = ARGV[1]
local schedulerKey = prefix .. 'repeat:' .. id
local next = redis.call('HGET', schedulerKey, 'next')
if not next or tonumber(next) ~= tonumber(ARGV[2]) then
  return false
end
redis.call('HINCRBY', schedulerKey, 'iterationCount', 1)
if ARGV[3] == '1' then
  local job = readJob(4)
  addSchedulerJob(id, job)
  return job.id
end
redis.call('HDEL', schedulerKey, 'next', 'pendingJobId')
redis.call('ZADD', prefix .. 'repeat', 0, id)
return false
