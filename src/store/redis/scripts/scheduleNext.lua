-- scheduleNext: adds a job scheduler's next iteration (BullMQ's updateJobScheduler).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] scheduler id   ARGV[2] producer: the id of the job that asks (the current iteration's)
-- ARGV[3] the pattern iteration's time ('' for every)   ARGV[4] now (ms, the caller's clock)
-- ARGV[5..13] the job (includes/jobs.lua layout; name and data are replaced by the scheduler's,
--   id, delay and timestamp set here, `delay` and `prevMillis` appended to its opts)
-- Only when the scheduler exists and the producer is its current iteration's job: an `every`
-- iteration follows the current one by `every` (or takes the next slot after now when that has
-- passed). When the new job's id exists: event duplicated, nothing else changes.
-- Returns: the added job id, or nil.
-- @include base
-- @include jobs
-- @include schedulers
local id = ARGV[1]
local schedulerKey = prefix .. 'repeat:' .. id
local prevMillis = tonumber(redis.call('ZSCORE', prefix .. 'repeat', id))
if not prevMillis or ARGV[2] ~= schedulerJobId(id, prevMillis) then
  return false
end
local now = tonumber(ARGV[4])
local fields = redis.call('HMGET', schedulerKey, 'repeat', 'name', 'data', 'offset')
local every = tonumber(cjson.decode(fields[1] or '{}').every)
local nextMillis = tonumber(ARGV[3])
if every then
  nextMillis = everyNextMillis(prevMillis, every, now, tonumber(fields[4]) or 0, nil)
end
local jobId = schedulerJobId(id, nextMillis)
if redis.call('EXISTS', prefix .. jobId) == 1 then
  emit('duplicated', 'jobId', jobId)
  return false
end
local job = readJob(5)
job.name = fields[2] or job.name
job.data = fields[3] or '{}'
redis.call('HINCRBY', schedulerKey, 'iterationCount', 1)
addIteration(id, job, jobId, nextMillis, now)
return jobId
