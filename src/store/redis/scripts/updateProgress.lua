-- updateProgress: stores a job's progress (no lock needed).
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
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
