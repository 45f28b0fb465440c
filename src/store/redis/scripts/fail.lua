-- fail: ends an attempt with an error: active -> failed, or -> delayed / waiting for a retry.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)
-- ARGV[2] the items as one JSON array of 11 values per item (as complete.lua), from index 1 + 11 * (i - 1):
--   id, token, failedReason, stacktrace (JSON array), retryDelay ('' = fail for good, 0 = retry now,
--   > 0 = retry after ms), remove ('1'/'0'), keep count (-1 = all), max age ms (-1 = any),
--   most removed by age (-1 = no cap), retriesExhausted ('1'/'0'), metrics max data points (0 = none;
--   final failures only)
-- ARGV[3] call id: a resent call gets the first one's answer (its fetched jobs as
--   includes/fetch.lua fetchReplay reads them again) and changes nothing (includes/calls.lua)
-- ARGV[4 ..] a fetch request (layout in includes/take.lua; n = -1 for none)
-- Returns: {codes, next} as complete.lua.
-- Events: for good: failed {jobId, failedReason, prev: active} (+ retries-exhausted {jobId, attemptsMade});
--         retry later: delayed {jobId, delay = due}; retry now: waiting {jobId, prev: active}.
--         The worker-level `failed` of a retried attempt is the API layer's, not the log's (as BullMQ).
-- A child failing for good applies its parent policy (includes/flows.lua), which may fail or
-- release its parent (events in the parent's queue), and frees or hands on its deduplication id
-- (includes/dedup.lua).
-- @include base
-- @include calls
-- @include retention
-- @include flows
-- @include take
-- @include groups
-- @include fetch
-- @include jobs
-- @include dedup
-- @include metrics
local kept = answeredCall(ARGV[3])
if kept then
  return moveReplay(kept)
end
local now = tonumber(ARGV[1])
local items = cjson.decode(ARGV[2])
local n = #items / 11
local codes = {}
local failedForGood = 0
for i = 0, n - 1 do
  local b = 1 + i * 11
  local id = items[b]
  local jobKey = prefix .. id
  local code, f = checkLock(id, jobKey, items[b + 1], now, finishFields)
  if code == 0 then
    local reason = items[b + 2]
    local attemptsMade = (tonumber(f[1]) or 0) + 1
    -- Leaves active: an empty token (no lock) is written with the rest, one HSET instead of an HDEL too.
    redis.call('ZREM', activeKey, id)
    groupLeftIn(queueName, id)
    redis.call('HSET', jobKey, 'failedReason', reason, 'stacktrace', items[b + 3], 'attemptsMade', attemptsMade,
      'token', '')
    local retryDelay = tonumber(items[b + 4])
    if not retryDelay then
      redis.call('HSET', jobKey, 'finishedOn', int(now))
      redis.call('HDEL', jobKey, 'defa')
      redis.call('ZADD', failedKey, finishScore(failedKey, now), id)
      failedForGood = failedForGood + 1
      emit('failed', 'jobId', id, 'failedReason', reason, 'prev', 'active')
      if items[b + 9] == '1' then
        emit('retries-exhausted', 'jobId', id, 'attemptsMade', attemptsMade)
      end
      childFailed(queueName, id, jobKey, reason, now, f[2])
      dedupAfterFinish(queueName, id, jobKey, f[3])
      local points = tonumber(items[b + 10])
      if points > 0 then
        recordMetric('failed', now, points)
      end
      applyRetention(failedKey, id, items[b + 5] == '1', tonumber(items[b + 6]), tonumber(items[b + 7]),
        tonumber(items[b + 8]), now)
    elseif retryDelay > 0 then
      local due = now + retryDelay
      redis.call('HSET', jobKey, 'delay', int(retryDelay))
      addToDelayed(id, due)
      emit('delayed', 'jobId', id, 'delay', int(due))
      signal()
    else
      -- Due delayed jobs go first, as BullMQ's retryJob promotes them before pushing the retry.
      promoteDelayed(now)
      addToWaiting(id, tonumber(f[4]) or 0, f[5] == '1')
      emit('waiting', 'jobId', id, 'prev', 'active') -- as BullMQ's retryJob
      signal()
    end
  end
  codes[#codes + 1] = code
end
countMinute('f', failedForGood, now)
return finishMoves(now, codes, ARGV[3], 4)
