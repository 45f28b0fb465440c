-- upsertScheduler: creates or replaces a job scheduler, swapping its pending job for `first`.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] scheduler id   ARGV[2] repeat (JSON)   ARGV[3] template (JSON)   ARGV[4] iterationCount
-- ARGV[5] '1' when a first job follows, '0' for none
-- ARGV[6..14] the first job (includes/jobs.lua layout; its id is given)
-- Scheduler layout: <q>:repeat ZSET score = next (0 = idle), member = id; <q>:repeat:<id> HASH
--   repeat, template, iterationCount, next (due time of the pending job), pendingJobId.
-- The previous pending job goes (event removed) when it is still delayed or waiting (not active),
-- even when it has first's id (so a changed template takes effect); `first` is then added unless
-- its id exists. A scheduler that existed keeps its iterationCount.
-- Returns: the first job's id, or nil.
-- @include base
-- @include jobs
-- @include schedulers
local id = ARGV[1]
local schedulerKey = prefix .. 'repeat:' .. id
local first = nil
if ARGV[5] == '1' then
  first = readJob(6)
end
local oldPending = redis.call('HGET', schedulerKey, 'pendingJobId')
local count = redis.call('HGET', schedulerKey, 'iterationCount') or ARGV[4]
if oldPending then
  removePendingJob(oldPending)
end
redis.call('DEL', schedulerKey)
redis.call('HSET', schedulerKey, 'repeat', ARGV[2], 'template', ARGV[3], 'iterationCount', count)
if first then
  addSchedulerJob(id, first)
  return first.id
end
redis.call('ZADD', prefix .. 'repeat', 0, id)
return false
