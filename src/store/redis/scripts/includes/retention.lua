-- Finished-job retention (needs base). Removes job hashes and logs along with the set entries.

-- A job's hash, logs and, as a parent, its dependency keys (includes/flows.lua).
local function deleteJob(id)
  local jobKey = prefix .. id
  redis.call('DEL', jobKey, jobKey .. ':logs', jobKey .. ':dependencies', jobKey .. ':processed',
    jobKey .. ':failed', jobKey .. ':ignored')
end

-- remove: boolean; count: keep the newest N (-1 = no limit); ageMs: drop jobs finished before now - ageMs (-1 = none).
local function applyRetention(setKey, id, remove, count, ageMs, now)
  if remove then
    redis.call('ZREM', setKey, id)
    deleteJob(id)
    return
  end
  if ageMs >= 0 then
    local bound = '(' .. int(now - ageMs)
    local old = redis.call('ZRANGEBYSCORE', setKey, '-inf', bound)
    for _, oldId in ipairs(old) do
      deleteJob(oldId)
    end
    redis.call('ZREMRANGEBYSCORE', setKey, '-inf', bound)
  end
  if count >= 0 then
    local extra = redis.call('ZRANGE', setKey, 0, -(count + 1))
    for _, oldId in ipairs(extra) do
      deleteJob(oldId)
    end
    redis.call('ZREMRANGEBYRANK', setKey, 0, -(count + 1))
  end
end
