-- Job schedulers (needs base, jobs): <q>:repeat ZSET (score = the current iteration's time, member =
-- id) and <q>:repeat:<id> HASH {repeat, name, data, opts, iterationCount, next, offset}. The current
-- iteration's job is 'repeat:<id>:<next>', as in BullMQ.

local function schedulerJobId(id, millis)
  return 'repeat:' .. id .. ':' .. int(millis)
end

-- True when job `jobId` exists and has not started (delayed, prioritized or waiting), so that an
-- upsert may replace it. As in BullMQ, a waiting one of a paused queue is left alone (BullMQ looks
-- for it in its paused list, which v6 no longer fills).
local function unstarted(jobId)
  local state = jobStateIn(queueName, jobId)
  return state == 'delayed' or state == 'prioritized' or (state == 'waiting' and not isPaused())
end

-- The time of an `every` iteration and the offset to record (BullMQ's rule). The first iteration
-- (no prevMillis) runs now, at startDate when later, or at the next `offset` slot when an offset
-- was given; later ones at prevMillis + every, or, when that has passed, at the next slot after now.
local function everyNextMillis(prevMillis, every, now, offset, startDate)
  local nextMillis
  if not prevMillis then
    if startDate then
      nextMillis = math.max(tonumber(startDate), now)
    elseif offset > 0 then
      nextMillis = math.floor(now / every) * every + offset
      if nextMillis <= now then
        nextMillis = nextMillis + every
      end
    else
      nextMillis = now
    end
  else
    nextMillis = prevMillis + every
    if nextMillis < now then
      nextMillis = math.floor(now / every) * every + offset
      if nextMillis <= now then
        nextMillis = nextMillis + every
      end
    end
  end
  if offset == 0 then
    offset = nextMillis - math.floor(nextMillis / every) * every
  end
  return math.floor(nextMillis), math.floor(offset)
end

-- Adds iteration `millis` of scheduler `id`: `job` (a readJob table) as jobId, due at millis, with
-- `delay` and `prevMillis` appended to its options; records millis as the scheduler's next.
-- Returns the delay.
local function addIteration(id, job, jobId, millis, now)
  local delay = math.max(0, millis - now)
  job.id, job.delay, job.timestamp = jobId, delay, now
  local tail = '"delay":' .. int(delay) .. ',"prevMillis":' .. int(millis) .. '}'
  if job.opts == '{}' then
    job.opts = '{' .. tail
  else
    job.opts = string.sub(job.opts, 1, -2) .. ',' .. tail
  end
  if insertJobIn(queueName, jobId, job, false) then
    signal()
  end
  redis.call('ZADD', prefix .. 'repeat', int(millis), id)
  redis.call('HSET', prefix .. 'repeat:' .. id, 'next', int(millis))
  return delay
end

-- The scheduler id of a scheduler-made job id ('repeat:<id>:<millis>'), and its millis; nil otherwise.
local function schedulerOfJob(jobId)
  if string.sub(jobId, 1, 7) ~= 'repeat:' then
    return nil
  end
  local at = string.find(jobId, ':[^:]*$')
  if not at or at <= 8 then
    return nil
  end
  return string.sub(jobId, 8, at - 1), string.sub(jobId, at + 1)
end

-- True when jobId is the current iteration of one of the queue's schedulers (BullMQ's
-- isJobSchedulerJob): remove refuses it, drain and clean keep it.
local function isCurrentIteration(jobId)
  local id, millis = schedulerOfJob(jobId)
  if not id then
    return false
  end
  local score = redis.call('ZSCORE', prefix .. 'repeat', id)
  return score ~= false and score ~= nil and int(tonumber(score)) == millis
end

