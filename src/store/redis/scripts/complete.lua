-- complete: active -> completed (or deleted by retention), then optionally fetches the next jobs.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)
-- ARGV[2] the items as one JSON array of 8 values per item (one argument: ~400 separate ones per
--   batch of 50 cost the client and Redis more than one cjson.decode), from index 1 + 8 * (i - 1):
--   id, token, returnvalue (JSON), remove ('1'/'0'), keep count (-1 = all), max age ms (-1 = any),
--   most removed by age (-1 = no cap), metrics max data points (0 = record no metric; includes/metrics.lua)
-- ARGV[3] call id: a resent call gets the first one's answer (its fetched jobs as
--   includes/fetch.lua fetchReplay reads them again) and changes nothing (includes/calls.lua)
-- ARGV[4 ..] a fetch request (layout in includes/take.lua; n = -1 for none)
-- Returns: {codes, next}: codes[i] = 0 done, -1 no such job, -2 not active, no lock or a lapsed one, -6 other token,
--          -4 children pending, -9 a child failed under failParentOnFailure
--          (nothing changes for that item); next = fetch result (see fetchNext.lua) or 0.
-- A child's return value goes to its parent's processed hash; a parent left with no pending child
-- leaves waiting-children (in whichever queue it lives): see includes/flows.lua. A job holding a
-- deduplication id frees it, or hands it to the job kept aside (includes/dedup.lua).
-- Events: completed {jobId, returnvalue, prev: active}; a released parent's waiting {jobId, prev:
--         waiting-children} (or delayed) in its queue; those of the fetch; drained when the fetch
--         found nothing and nothing waits.
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
local n = #items / 8
local codes = {}
-- Ids leaving active, removed from <q>:active with one ZREM after the loop (nothing in it reads the set).
local left = {}
-- Score, id pairs of jobs kept with no retention rule, added to <q>:completed with one ZADD: before
-- a job whose retention reads the set, and after the loop.
local toAdd = {}
local function addFinished()
  if #toAdd > 0 then
    redis.call('ZADD', completedKey, unpack(toAdd))
    toAdd = {}
  end
end
for i = 0, n - 1 do
  local b = 1 + i * 8
  local id = items[b]
  local jobKey = prefix .. id
  local code, f = checkLock(id, jobKey, items[b + 1], now, finishFields)
  if code == 0 then
    -- A parent completes only once no child is pending (-4) and none failed under failParentOnFailure (-9).
    code = finishBlocker(jobKey, false)
  end
  if code == 0 then
    -- Leaves active: an empty token (no lock) is written with the rest, one HSET instead of an HDEL too.
    left[#left + 1] = id
    groupLeftIn(queueName, id)
    redis.call('HSET', jobKey, 'returnvalue', items[b + 2], 'finishedOn', int(now),
      'attemptsMade', (tonumber(f[1]) or 0) + 1, 'token', '')
    local remove, keepCount, maxAge = items[b + 3] == '1', tonumber(items[b + 4]), tonumber(items[b + 5])
    local keptAsIs = keepCount < 0 and maxAge < 0
    if remove then
      -- Deleted below: it never joins <q>:completed (a ZADD and a ZREM fewer).
    elseif keptAsIs then
      toAdd[#toAdd + 1] = finishScore(completedKey, now)
      toAdd[#toAdd + 1] = id
    else
      addFinished()
      redis.call('ZADD', completedKey, finishScore(completedKey, now), id)
    end
    emit('completed', 'jobId', id, 'returnvalue', items[b + 2], 'prev', 'active')
    childCompleted(queueName, id, jobKey, items[b + 2], now, f[2])
    dedupAfterFinish(queueName, id, jobKey, f[3])
    local points = tonumber(items[b + 7])
    if points > 0 then
      recordMetric('completed', now, points)
    end
    if remove then
      deleteJob(id, now, false)
    elseif not keptAsIs then
      applyRetention(completedKey, id, false, keepCount, maxAge, tonumber(items[b + 6]), now)
    end
  end
  codes[#codes + 1] = code
end
addFinished()
if #left > 0 then
  redis.call('ZREM', activeKey, unpack(left))
end
countMinute('c', #left, now)
return finishMoves(now, codes, ARGV[3], 4)
