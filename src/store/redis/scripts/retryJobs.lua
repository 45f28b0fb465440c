-- retryJobs: completed or failed jobs finished at or before a timestamp -> waiting, oldest first.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] state: 'completed' | 'failed'   ARGV[2] count: the most to move (<= 0 = all)
-- ARGV[3] timestamp (ms): only jobs with finishedOn <= timestamp
-- Returns: how many moved.  Events: waiting {jobId, prev: state} each.
-- @include base
-- @include retry
local state, count = ARGV[1], tonumber(ARGV[2])
local setKey = state == 'completed' and completedKey or failedKey
-- Finished at or before the timestamp: scores carry a fraction within one ms (finishScore, base.lua).
local bound = '(' .. int(math.floor(tonumber(ARGV[3])) + 1)
local ids
if count > 0 then
  ids = redis.call('ZRANGEBYSCORE', setKey, '-inf', bound, 'LIMIT', 0, count)
else
  ids = redis.call('ZRANGEBYSCORE', setKey, '-inf', bound)
end
local moved = 0
for _, id in ipairs(ids) do
  local jobKey = prefix .. id
  redis.call('ZREM', setKey, id)
  if redis.call('EXISTS', jobKey) == 1 then
    retryFinished(id, jobKey, state, false, false)
    moved = moved + 1
  end
end
if moved > 0 then
  signal()
end
return moved
