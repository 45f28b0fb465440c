-- cancelJob: Queue.cancelJob fails a job for good, whatever attempts it has left, from any unfinished state.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)   ARGV[2] id   ARGV[3] failedReason
-- ARGV[4..7] retention: remove ('1'/'0'), keep count (-1 = all), max age ms (-1 = any), most removed by age (-1 = no cap)
-- ARGV[8] metrics max data points (0 = none)
-- Returns {code, prev, token}: 0 failed now; -1 no such job; -3 finished already (nothing changes).
--   prev: the state the job left (or is in, with -3); token: the lock it was held by ('' unless active).
-- Events: failed {jobId, failedReason, prev}. An active job's holder hears of it through PUBLISH on
-- <q>cancels (JSON [id, token, failedReason]), sent by the same call (Store.watchCancels).
-- The job leaves its lock behind (token '': every later move of its holder gets -2) and, when
-- active, spends an attempt; the rest is fail.lua's final failure: parent policy, dedup, metrics, retention.
-- @include base
-- @include retention
-- @include flows
-- @include jobs
-- @include dedup
-- @include metrics
local now = tonumber(ARGV[1])
local id = ARGV[2]
local reason = ARGV[3]
local jobKey = prefix .. id
if redis.call('HEXISTS', jobKey, 'name') == 0 then
  return { -1, '', '' }
end
local prev = jobStateIn(queueName, id)
if prev == 'completed' or prev == 'failed' or prev == 'unknown' then
  return { -3, prev, '' }
end
local f = redis.call('HMGET', jobKey, 'attemptsMade', 'parent', 'opts', 'token')
local token = ''
if prev == 'active' then
  token = f[4] or ''
  groupLeftIn(queueName, id) -- a grouped job frees its group's slot
  redis.call('ZREM', activeKey, id)
  redis.call('HSET', jobKey, 'attemptsMade', (tonumber(f[1]) or 0) + 1)
elseif prev == 'waiting' then
  -- A waiting grouped job is in its group's set, not in <q>:wait.
  if redis.call('LREM', waitKey, 0, id) == 0 then
    groupUnwaitIn(queueName, id)
  end
elseif prev == 'prioritized' then
  redis.call('ZREM', prioritizedKey, id)
elseif prev == 'delayed' then
  redis.call('ZREM', delayedKey, id)
else
  redis.call('ZREM', waitingChildrenKey, id)
end
redis.call('HSET', jobKey, 'failedReason', reason, 'token', '', 'finishedOn', int(now))
redis.call('HDEL', jobKey, 'defa')
redis.call('ZADD', failedKey, finishScore(failedKey, now), id)
countMinute('f', 1, now)
emit('failed', 'jobId', id, 'failedReason', reason, 'prev', prev)
childFailed(queueName, id, jobKey, reason, now, f[2])
dedupAfterFinish(queueName, id, jobKey, f[3])
local points = tonumber(ARGV[8])
if points > 0 then
  recordMetric('failed', now, points)
end
applyRetention(failedKey, id, ARGV[4] == '1', tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), now)
if prev == 'active' then
  redis.call('PUBLISH', prefix .. 'cancels', cjson.encode({ id, token, reason }))
end
return { 0, prev, token }
