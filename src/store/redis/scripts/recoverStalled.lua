-- recoverStalled: takes back active jobs whose lock lapsed (score of <q>:active below the server's clock).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms: the minute the stalls are counted in; locks and the interval run on the server's clock)   ARGV[2] maxStalledCount
-- ARGV[3] intervalMs   ARGV[4] force ('1'/'0')
-- Returns: {recovered ids, failing ids}; both empty when another caller ran the check less than
--          intervalMs ago (meta field stalled-check-until) and force is not set.
-- Every lapsed job goes back to the front of wait (or to prioritized) with stalledCounter + 1. One
-- whose stalledCounter then exceeds maxStalledCount also gets `defa` (a deferred failure, "job stalled more
-- than allowable limit"): the worker that fetches it fails it at once, through the usual fail path
-- (retention, parent policies, events), as BullMQ 6 does. A job of a live scheduler is never failed so.
-- Events: stalled {jobId} + waiting {jobId, prev: active}.
-- @include base
local maxStalled = tonumber(ARGV[2])
local clock = lockClock()
if ARGV[4] ~= '1' then
  local untilMs = tonumber(redis.call('HGET', metaKey, 'stalled-check-until')) or 0
  if clock < untilMs then
    return { {}, {} }
  end
end
redis.call('HSET', metaKey, 'stalled-check-until', int(clock + tonumber(ARGV[3])))

-- Whether the job was made by a scheduler that still exists (opts.repeatJobKey).
local function fromLiveScheduler(jobKey)
  local ok, opts = pcall(cjson.decode, redis.call('HGET', jobKey, 'opts') or '{}')
  local schedulerId = ok and type(opts) == 'table' and opts.repeatJobKey
  return type(schedulerId) == 'string' and redis.call('ZSCORE', prefix .. 'repeat', schedulerId) ~= false
end

local reason = 'job stalled more than allowable limit'
local recovered, failing = {}, {}
local lapsed = redis.call('ZRANGEBYSCORE', activeKey, '-inf', '(' .. int(clock), 'LIMIT', 0, 1000)
for _, id in ipairs(lapsed) do
  local jobKey = prefix .. id
  leaveActive(id, jobKey)
  if redis.call('EXISTS', jobKey) == 1 then
    local stalled = redis.call('HINCRBY', jobKey, 'stalledCounter', 1)
    if stalled > maxStalled and not fromLiveScheduler(jobKey) then
      redis.call('HSET', jobKey, 'defa', reason)
      failing[#failing + 1] = id
    end
    addToWaiting(id, jobPriority(jobKey), true)
    emit('stalled', 'jobId', id)
    emit('waiting', 'jobId', id, 'prev', 'active')
    recovered[#recovered + 1] = id
  end
end
if #recovered > 0 then
  signal()
end
countMinute('s', #recovered, tonumber(ARGV[1]))
return { recovered, failing }
