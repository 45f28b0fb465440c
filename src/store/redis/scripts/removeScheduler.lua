-- removeScheduler: removes a job scheduler and its pending job (when delayed or waiting, not active).
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
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
