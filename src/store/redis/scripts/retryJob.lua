-- retryJob: a completed or failed job -> waiting (job.retry()).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] state it must be in: 'completed' | 'failed'
-- ARGV[3] reset attemptsMade ('1'/'0')   ARGV[4] reset attemptsStarted ('1'/'0')
-- Returns: 0 done, -1 no such job, -3 not in that state.  Events: waiting {jobId, prev: state}.
-- A child is pending in its parent again (includes/flows.lua childRetried).
-- @include base
-- @include flows
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
childRetried(queueName, id, jobKey)
retryFinished(id, jobKey, state, ARGV[3] == '1', ARGV[4] == '1')
signal()
return 0
