-- A finished job back to waiting (needs base): retryJob and retryJobs.
-- Clears the outcome of its last run and its recorded durable steps (it runs from scratch); resetMade / resetStarted zero the attempt counters.
local function retryFinished(id, jobKey, state, resetMade, resetStarted)
  redis.call('HDEL', jobKey, 'returnvalue', 'failedReason', 'finishedOn', 'processedOn', 'steps')
  if resetMade then
    redis.call('HSET', jobKey, 'attemptsMade', 0)
  end
  if resetStarted then
    redis.call('HSET', jobKey, 'attemptsStarted', 0)
  end
  addToWaiting(id, jobPriority(jobKey), isLifo(jobKey))
  emit('waiting', 'jobId', id, 'prev', state)
end
