-- retryJob: a completed or failed job -> waiting (job.retry()).
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
-- ARGV[1] id   ARGV[2] state it must be in: 'completed' | 'failed'
-- ARGV[3] reset attemptsMade ('1'/'0')   ARGV[4] reset attemptsStarted ('1'/'0')
-- Returns: 0 done, -1 no such job, -3 not in that state.  Events: waiting {jobId, prev: state}.
-- @include base
-- @include retry
local id, state = ARGV[1], ARGV[2]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
local setKey = state == 'completed' and completedKey or failedKey
if redis.call('ZREM', setKey, id) == 0 then
  return -3
end
retryFinished(id, jobKey, state, ARGV[3] == '1', ARGV[4] == '1')
signal()
return 0
