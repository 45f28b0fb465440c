-- recoverStalled: takes back active jobs whose lock lapsed (score of <q>:active < now).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)   ARGV[2] maxStalledCount   ARGV[3] intervalMs   ARGV[4] force ('1'/'0')
-- Returns: {recovered ids, failed ids}; both empty when another caller ran the check less than
--          intervalMs ago (meta field stalled-check-until, caller clock) and force is not set.
-- A job whose stalledCounter + 1 exceeds maxStalledCount fails at once ("job stalled more than
-- allowable limit", attemptsMade + 1, the job's own opts.removeOnFail applied); the others go back to
-- the front of wait (or to prioritized) with stalledCounter + 1.
-- Events: stalled {jobId} + waiting {jobId, prev: active}; or failed {jobId, failedReason, prev: active}.
-- A child failed here applies its parent policy (includes/flows.lua).
-- @include base
-- @include retention
-- @include flows
local now = tonumber(ARGV[1])
local maxStalled = tonumber(ARGV[2])
if ARGV[4] ~= '1' then
  local untilMs = tonumber(redis.call('HGET', metaKey, 'stalled-check-until')) or 0
  if now < untilMs then
    return { {}, {} }
  end
end
redis.call('HSET', metaKey, 'stalled-check-until', int(now + tonumber(ARGV[3])))

-- removeOnFail as the job was added with it: true | number | {age (s), count, limit}, as toRetention
-- (src/options/retention.ts) reads it: remove, count, ageMs, limit.
local function failRetention(jobKey)
  local ok, opts = pcall(cjson.decode, redis.call('HGET', jobKey, 'opts') or '{}')
  local keep = ok and type(opts) == 'table' and opts.removeOnFail
  if keep == true or keep == 0 then
    return true, -1, -1, -1
  elseif type(keep) == 'number' then
    return false, keep > 0 and keep or -1, -1, -1
  elseif type(keep) == 'table' then
    local count, age = tonumber(keep.count), tonumber(keep.age)
    if count == 0 then
      return true, -1, -1, -1
    end
    return false, count and count > 0 and count or -1, age and age * 1000 or -1, tonumber(keep.limit) or 1000
  end
  return false, -1, -1, -1
end

local reason = 'job stalled more than allowable limit'
local recovered, failed = {}, {}
local lapsed = redis.call('ZRANGEBYSCORE', activeKey, '-inf', '(' .. int(now), 'LIMIT', 0, 1000)
for _, id in ipairs(lapsed) do
  local jobKey = prefix .. id
  leaveActive(id, jobKey)
  if redis.call('EXISTS', jobKey) == 1 then
    local stalled = redis.call('HINCRBY', jobKey, 'stalledCounter', 1)
    if stalled > maxStalled then
      redis.call('HINCRBY', jobKey, 'attemptsMade', 1)
      redis.call('HSET', jobKey, 'failedReason', reason, 'finishedOn', int(now))
      redis.call('ZADD', failedKey, finishScore(failedKey, now), id)
      emit('failed', 'jobId', id, 'failedReason', reason, 'prev', 'active')
      childFailed(queueName, id, jobKey, reason, now)
      local remove, count, ageMs, limit = failRetention(jobKey)
      applyRetention(failedKey, id, remove, count, ageMs, limit, now)
      failed[#failed + 1] = id
    else
      addToWaiting(id, jobPriority(jobKey), true)
      emit('stalled', 'jobId', id)
      emit('waiting', 'jobId', id, 'prev', 'active')
      recovered[#recovered + 1] = id
    end
  end
end
if #recovered > 0 then
  signal()
end
return { recovered, failed }
