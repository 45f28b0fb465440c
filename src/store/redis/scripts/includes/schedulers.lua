-- Job schedulers (needs base, jobs): <q>:repeat ZSET (score = next run, 0 = idle; member = id) and
-- <q>:repeat:<id> HASH {repeat, template, iterationCount, next, pendingJobId}.

-- Removes a scheduler's pending job when it has not started (delayed, waiting or prioritized).
local function removePendingJob(jobId)
  local state = jobStateIn(queueName, jobId)
  if state == 'delayed' or state == 'waiting' or state == 'prioritized' then
    removeJobIn(queueName, jobId)
  end
end

-- Adds scheduler `id`'s next job (a readJob table with its id; skipped when it exists) and records
-- it as pending, due at timestamp + delay.
local function addSchedulerJob(id, job)
  if redis.call('EXISTS', prefix .. job.id) == 0 then
    if insertJobIn(queueName, job.id, job, false) then
      signal()
    end
  end
  local due = tonumber(job.timestamp) + tonumber(job.delay)
  redis.call('HSET', prefix .. 'repeat:' .. id, 'next', int(due), 'pendingJobId', job.id)
  redis.call('ZADD', prefix .. 'repeat', int(due), id)
end
