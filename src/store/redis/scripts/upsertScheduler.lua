-- upsertScheduler: creates or replaces a job scheduler and places its iteration (BullMQ's addJobScheduler).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] scheduler id   ARGV[2] repeat (JSON: every?, pattern?, tz?, startDate?, endDate?, limit?)
-- ARGV[3] template name   ARGV[4] template data (JSON)   ARGV[5] template opts (JSON)
-- ARGV[6] the caller's `every` offset ('' = none)   ARGV[7] the pattern iteration's time ('' for every)
-- ARGV[8] now (ms, the caller's clock)   ARGV[9..17] the job (includes/jobs.lua layout; id, delay and
--   timestamp are set here, and `delay`, `prevMillis` appended to its opts)
-- The current iteration's job is removed when it has not started (event removed); an `every`
-- schedule whose interval is unchanged then keeps its time, a changed one starts now. A job id that
-- is taken (by a job left alone) moves an `every` iteration on by whole intervals, up to 32 times.
-- A scheduler that existed keeps its iterationCount; a new one starts at 1.
-- Returns: {job id, delay}; -10 a pattern iteration's job id is taken, -11 32 `every` slots are
--   (nothing changes on either).
-- @include base
-- @include jobs
-- @include schedulers
local id = ARGV[1]
local schedulerKey = prefix .. 'repeat:' .. id
local schedule = cjson.decode(ARGV[2])
local every = tonumber(schedule.every)
local userOffset = tonumber(ARGV[6])
local nextMillis = tonumber(ARGV[7])
local now = tonumber(ARGV[8])
local job = readJob(9)

local prevMillis = tonumber(redis.call('ZSCORE', prefix .. 'repeat', id))
local newOffset = 0
local updatedEvery = false
if every then
  local millis = prevMillis
  if prevMillis then
    local old = cjson.decode(redis.call('HGET', schedulerKey, 'repeat') or '{}')
    if tonumber(old.every) ~= every then
      millis = nil
      updatedEvery = true
    end
  end
  nextMillis, newOffset = everyNextMillis(millis, every, now, userOffset or 0, schedule.startDate)
end

-- The current iteration's job goes when it has not started; its id is then free.
local currentId = prevMillis and schedulerJobId(id, prevMillis)
local replacing = currentId ~= nil and unstarted(currentId)
if replacing and every and not updatedEvery then
  nextMillis = prevMillis
end
local function taken(jobId)
  return not (replacing and jobId == currentId) and redis.call('EXISTS', prefix .. jobId) == 1
end

local jobId = schedulerJobId(id, nextMillis)
if taken(jobId) then
  if not every then
    return -10
  end
  local scans = 0
  repeat
    nextMillis = nextMillis + every
    jobId = schedulerJobId(id, nextMillis)
    scans = scans + 1
  until not taken(jobId) or scans >= 32
  if taken(jobId) then
    return -11
  end
end

if replacing then
  removeJobIn(queueName, currentId)
end
-- A replaced iteration keeps the recorded offset unless the caller gave one (as BullMQ).
local offset = newOffset
if replacing then
  offset = userOffset or redis.call('HGET', schedulerKey, 'offset')
end
local count = redis.call('HGET', schedulerKey, 'iterationCount') or 1
redis.call('DEL', schedulerKey)
redis.call('HSET', schedulerKey, 'repeat', ARGV[2], 'name', ARGV[3], 'data', ARGV[4], 'opts', ARGV[5],
  'iterationCount', count)
if offset then
  redis.call('HSET', schedulerKey, 'offset', int(tonumber(offset)))
end
local delay = addIteration(id, job, jobId, nextMillis, now)
return { jobId, delay }
