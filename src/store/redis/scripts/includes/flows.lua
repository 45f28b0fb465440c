-- Parent/child bookkeeping (needs base). Mirrors src/store/sqlite/flows.ts.
-- A child's key is '<childQueue>:<childId>'; the child's hash holds its parent as JSON in field
-- `parent` ({id, queue, policy}). Per parent job '<pq>:<pid>':
--   <pq>:<pid>:dependencies  SET   child keys still pending
--   <pq>:<pid>:processed     HASH  child key -> return value (JSON)
--   <pq>:<pid>:failed        HASH  child key -> failed reason (policies fail, continue)
--   <pq>:<pid>:ignored       HASH  child key -> failed reason (policy ignore)
-- Parents may live in other queues: their keys are built from the parent's queue name.

local doneSuffixes = { ':processed', ':failed', ':ignored' }

-- The parent link of a job hash: {id, queue, policy?}, or nil. `raw`: the `parent` field when the
-- caller already read it (false = absent), nil to read it here.
local function parentOf(jobKey, raw)
  if raw == nil then
    raw = redis.call('HGET', jobKey, 'parent')
  end
  if not raw or raw == '' then
    return nil
  end
  local ok, parent = pcall(cjson.decode, raw)
  if not ok or type(parent) ~= 'table' or type(parent.id) ~= 'string' or type(parent.queue) ~= 'string' then
    return nil
  end
  if type(parent.policy) ~= 'string' then
    parent.policy = nil
  end
  return parent
end

-- Moves child `childKey` of parent `parentKey` out of pending (or whichever outcome it had) into
-- `suffix` (one of doneSuffixes, with `value`; '' = drop the dependency). Only a known dependency
-- changes, as the SQLite UPDATE does.
local function setDepStatus(parentKey, childKey, suffix, value)
  -- A pending child has no outcome recorded yet; only one that had one (retried) needs them cleared.
  local known = redis.call('SREM', parentKey .. ':dependencies', childKey) == 1
  if not known then
    for _, done in ipairs(doneSuffixes) do
      if redis.call('HDEL', parentKey .. done, childKey) == 1 then
        known = true
      end
    end
  end
  if known and suffix ~= '' then
    redis.call('HSET', parentKey .. suffix, childKey, value)
  end
end

-- A parent leaves waiting-children once nothing is pending (or at once when `force`): to waiting
-- (event waiting {prev: waiting-children}) or, when it has a delay, to delayed at now + delay.
local function releaseParent(pq, pid, now, force)
  local wcKey = pq .. ':waiting-children'
  if not redis.call('ZSCORE', wcKey, pid) then
    return
  end
  local parentKey = pq .. ':' .. pid
  -- Children still pending is the common case: check it before the parent's existence.
  if not force and redis.call('SCARD', parentKey .. ':dependencies') > 0 then
    return
  end
  if redis.call('EXISTS', parentKey) == 0 then
    return
  end
  redis.call('ZREM', wcKey, pid)
  local delay = tonumber(redis.call('HGET', parentKey, 'delay')) or 0
  if delay > 0 then
    addToDelayedIn(pq, pid, now + delay)
    emitIn(pq, 'delayed', 'jobId', pid, 'delay', int(now + delay))
  else
    local priority = tonumber(redis.call('HGET', parentKey, 'priority')) or 0
    addToWaitingIn(pq, pid, priority, redis.call('HGET', parentKey, 'lifo') == '1')
    emitIn(pq, 'waiting', 'jobId', pid, 'prev', 'waiting-children')
  end
  signalIn(pq)
end

-- Job `id` of queue `q` completed: record its return value in its parent, release the parent.
local function childCompleted(q, id, jobKey, returnvalue, now, parentRaw)
  local parent = parentOf(jobKey, parentRaw)
  if not parent then
    return
  end
  setDepStatus(parent.queue .. ':' .. parent.id, q .. ':' .. id, ':processed', returnvalue)
  releaseParent(parent.queue, parent.id, now, false)
end

-- Job `id` of queue `q` failed for good: apply its parent policy (see Store.fail).
local function childFailed(q, id, jobKey, reason, now, parentRaw)
  local parent = parentOf(jobKey, parentRaw)
  if not parent then
    return
  end
  local pq, pid = parent.queue, parent.id
  local parentKey = pq .. ':' .. pid
  local childKey = q .. ':' .. id
  local policy = parent.policy
  if policy == 'fail' then
    setDepStatus(parentKey, childKey, ':failed', reason)
    local wcKey = pq .. ':waiting-children'
    if not redis.call('ZSCORE', wcKey, pid) or redis.call('EXISTS', parentKey) == 0 then
      return
    end
    local parentReason = 'child ' .. childKey .. ' failed'
    redis.call('ZREM', wcKey, pid)
    redis.call('HSET', parentKey, 'failedReason', parentReason, 'finishedOn', int(now))
    redis.call('ZADD', pq .. ':failed', finishScore(pq .. ':failed', now), pid)
    emitIn(pq, 'failed', 'jobId', pid, 'failedReason', parentReason, 'prev', 'waiting-children')
    childFailed(pq, pid, parentKey, parentReason, now)
  elseif policy == 'continue' then
    setDepStatus(parentKey, childKey, ':failed', reason)
    releaseParent(pq, pid, now, true)
  elseif policy == 'ignore' then
    setDepStatus(parentKey, childKey, ':ignored', reason)
    releaseParent(pq, pid, now, false)
  elseif policy == 'remove' then
    setDepStatus(parentKey, childKey, '', nil)
    releaseParent(pq, pid, now, false)
  end
  -- No policy: the dependency stays pending and the parent keeps waiting, as in BullMQ.
end
