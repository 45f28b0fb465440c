-- Finished-job retention (needs base, flows). Removes job hashes and logs along with the set entries.

-- A job's hash, logs and, as a parent, its dependency keys (includes/flows.lua). As a child it first
-- leaves its parent's pending children (flows.lua childRemoved; `hard` true for clean and drain,
-- 'queue' for obliterate).
local function deleteJob(id, now, hard)
  local jobKey = prefix .. id
  childRemoved(queueName, id, jobKey, now, hard)
  -- A grouped job leaves its group's waiting set or frees its slot (a no-op for other jobs).
  groupUnwaitIn(queueName, id)
  groupLeftIn(queueName, id)
  redis.call('DEL', jobKey, jobKey .. ':logs', jobKey .. ':dependencies', jobKey .. ':processed',
    jobKey .. ':failed', jobKey .. ':ignored')
end

-- Applies BullMQ's KeepJobs after job `id` joined finished set `setKey` at `now`.
-- remove: drop this job at once. ageMs (-1 = none): drop jobs that finished at or before now - ageMs,
-- the newest of them first and at most `limit` (-1 = no cap) per call. count (-1 = no limit): keep
-- the newest `count` jobs. Scores are finishScore's (base.lua), so "at or before ms m" is "< m + 1"
-- and the newest are the last to finish, also within one ms.
local function applyRetention(setKey, id, remove, count, ageMs, limit, now)
  if remove then
    redis.call('ZREM', setKey, id)
    deleteJob(id, now, false)
    return
  end
  if ageMs >= 0 then
    local bound = '(' .. int(math.floor(now - ageMs) + 1)
    local old = redis.call('ZREVRANGEBYSCORE', setKey, bound, '-inf', 'LIMIT', 0, limit)
    for _, oldId in ipairs(old) do
      deleteJob(oldId, now, false)
    end
    if limit < 0 or #old < limit then
      redis.call('ZREMRANGEBYSCORE', setKey, '-inf', bound)
    else
      for _, oldId in ipairs(old) do
        redis.call('ZREM', setKey, oldId)
      end
    end
  end
  if count >= 0 then
    local extra = redis.call('ZRANGE', setKey, 0, -(count + 1))
    for _, oldId in ipairs(extra) do
      deleteJob(oldId, now, false)
    end
    redis.call('ZREMRANGEBYRANK', setKey, 0, -(count + 1))
  end
end
