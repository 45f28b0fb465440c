-- Parent/child bookkeeping (needs base). Mirrors src/store/sqlite/flows.ts.
-- A child's key is '<childQueue>:<childId>'; the child's hash holds its parent as JSON in field
-- `parent` ({id, queue, policy}). Per parent job '<pq>:<pid>' (BullMQ's lists in brackets):
--   <pq>:<pid>:dependencies  SET   child keys still pending                    (:dependencies)
--   <pq>:<pid>:processed     HASH  child key -> return value (JSON)            (:processed)
--   <pq>:<pid>:failed        HASH  child key -> reason, policy fail            (:unsuccessful)
--   <pq>:<pid>:ignored       HASH  child key -> reason, policies continue and ignore (:failed)
-- A parent's hash field `defa` holds a deferred failure: see failParentLater.
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

-- Parent `pid` of queue `pq` leaves waiting-children (the caller removed it from there): to delayed
-- at now + delay when it has a delay, else to waiting (event prev `prev`).
local function parentToWaiting(pq, pid, now, prev)
  local parentKey = pq .. ':' .. pid
  local delay = tonumber(redis.call('HGET', parentKey, 'delay')) or 0
  if delay > 0 then
    addToDelayedIn(pq, pid, now + delay)
    emitIn(pq, 'delayed', 'jobId', pid, 'delay', int(now + delay))
  else
    local priority = tonumber(redis.call('HGET', parentKey, 'priority')) or 0
    addToWaitingIn(pq, pid, priority, redis.call('HGET', parentKey, 'lifo') == '1')
    emitIn(pq, 'waiting', 'jobId', pid, 'prev', prev)
  end
  signalIn(pq)
end

-- A parent leaves waiting-children once nothing is pending (or at once when `force`).
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
  parentToWaiting(pq, pid, now, 'waiting-children')
end

-- 0 when job `jobKey` may complete; -4 while a child is pending, -9 once one failed under
-- failParentOnFailure (`failedFirst`: check -9 first, as moveToWaitingChildren does).
local function finishBlocker(jobKey, failedFirst)
  -- Empty sets and hashes do not exist: one call answers for the job that never had children.
  if redis.call('EXISTS', jobKey .. ':dependencies', jobKey .. ':failed') == 0 then
    return 0
  end
  local pending = redis.call('SCARD', jobKey .. ':dependencies') > 0
  local failed = redis.call('HLEN', jobKey .. ':failed') > 0
  if failed and (failedFirst or not pending) then
    return -9
  end
  if pending then
    return -4
  end
  return 0
end

-- Job `id` of queue `q` completed: record its return value in its parent, release the parent.
local function childCompleted(q, id, jobKey, returnvalue, now, parentRaw)
  local parent = parentOf(jobKey, parentRaw)
  if not parent then
    return
  end
  local parentKey = parent.queue .. ':' .. parent.id
  local childKey = q .. ':' .. id
  if redis.call('SREM', parentKey .. ':dependencies', childKey) == 1 then
    redis.call('HSET', parentKey .. ':processed', childKey, returnvalue)
    releaseParent(parent.queue, parent.id, now, false)
  end
end

-- failParentOnFailure, as BullMQ: the parent gets a deferred failure (`defa`); one waiting for its
-- children (or delayed) moves to waiting at once, and the worker that fetches it fails it with that
-- reason instead of running it.
local function failParentLater(pq, pid, reason, now)
  local parentKey = pq .. ':' .. pid
  if redis.call('EXISTS', parentKey) == 0 or redis.call('ZSCORE', pq .. ':failed', pid) then
    return
  end
  redis.call('HSET', parentKey, 'defa', reason)
  if redis.call('ZREM', pq .. ':waiting-children', pid) == 1 then
    parentToWaiting(pq, pid, now, 'waiting-children')
  elseif redis.call('ZREM', pq .. ':delayed', pid) == 1 then
    redis.call('HSET', parentKey, 'delay', 0)
    parentToWaiting(pq, pid, now, 'delayed')
  end
end

-- Job `id` of queue `q` failed for good: apply its parent policy (see Store.fail).
local function childFailed(q, id, jobKey, reason, now, parentRaw)
  local parent = parentOf(jobKey, parentRaw)
  if not parent or not parent.policy then
    -- No policy: the dependency stays pending and the parent keeps waiting, as in BullMQ.
    return
  end
  local pq, pid = parent.queue, parent.id
  local parentKey = pq .. ':' .. pid
  local childKey = q .. ':' .. id
  if redis.call('SREM', parentKey .. ':dependencies', childKey) == 0 then
    return
  end
  local policy = parent.policy
  if policy == 'fail' then
    redis.call('HSET', parentKey .. ':failed', childKey, reason)
    failParentLater(pq, pid, 'child ' .. childKey .. ' failed', now)
  elseif policy == 'continue' then
    redis.call('HSET', parentKey .. ':ignored', childKey, reason)
    releaseParent(pq, pid, now, true)
  elseif policy == 'ignore' then
    redis.call('HSET', parentKey .. ':ignored', childKey, reason)
    releaseParent(pq, pid, now, false)
  else -- remove
    releaseParent(pq, pid, now, false)
  end
end

-- Job `id` of queue `q` (hash `jobKey`) is being deleted (remove, retention, clean, drain): it
-- leaves its parent's pending children. A parent left with none moves on; with `hard` (clean,
-- drain) a parent in the same queue is deleted with its last pending child instead, as BullMQ does.
-- `hard` = 'queue' (obliterate): the job's whole queue goes, so only parents in other queues matter.
local function childRemoved(q, id, jobKey, now, hard)
  local parent = parentOf(jobKey)
  if not parent or (hard == 'queue' and parent.queue == q) then
    return
  end
  local pq, pid = parent.queue, parent.id
  local parentKey = pq .. ':' .. pid
  if redis.call('SREM', parentKey .. ':dependencies', q .. ':' .. id) == 0 then
    return
  end
  if redis.call('SCARD', parentKey .. ':dependencies') > 0 then
    return
  end
  if hard and pq == q and redis.call('ZREM', pq .. ':waiting-children', pid) == 1 then
    childRemoved(pq, pid, parentKey, now, true)
    redis.call('DEL', parentKey, parentKey .. ':logs', parentKey .. ':dependencies', parentKey .. ':processed',
      parentKey .. ':failed', parentKey .. ':ignored')
  else
    releaseParent(pq, pid, now, true)
  end
end

-- A retried child (hash `jobKey`) is pending in its parent again, whatever outcome it had there.
local function childRetried(q, id, jobKey)
  local parent = parentOf(jobKey)
  if not parent then
    return
  end
  local parentKey = parent.queue .. ':' .. parent.id
  if redis.call('EXISTS', parentKey) == 0 then
    return
  end
  -- As BullMQ: only a child whose outcome the parent recorded (not one a `remove` policy dropped).
  local childKey = q .. ':' .. id
  for _, done in ipairs(doneSuffixes) do
    if redis.call('HDEL', parentKey .. done, childKey) == 1 then
      redis.call('SADD', parentKey .. ':dependencies', childKey)
    end
  end
end

-- An add met job `id` of queue `q` that exists already, naming `parentRaw` (JSON, '' = none) as its
-- parent (BullMQ's handling of a duplicated child): a job with no parent, or with this one, is linked
-- to it, pending or, when completed, as processed (then the parent key is returned, for the caller
-- to release once the whole add is in). A job whose other parent still exists is left alone: the
-- caller refused the add before writing anything (parentConflict).
local function linkExisting(q, id, parentRaw)
  if not parentRaw or parentRaw == '' then
    return nil
  end
  local jobKey = q .. ':' .. id
  local parent = cjson.decode(parentRaw)
  local parentKey = parent.queue .. ':' .. parent.id
  local current = parentOf(jobKey)
  if current and current.queue .. ':' .. current.id ~= parentKey then
    return nil
  end
  redis.call('HSET', jobKey, 'parent', parentRaw)
  local childKey = q .. ':' .. id
  if redis.call('ZSCORE', q .. ':completed', id) then
    redis.call('HSET', parentKey .. ':processed', childKey, redis.call('HGET', jobKey, 'returnvalue') or 'null')
    return parent
  end
  redis.call('SADD', parentKey .. ':dependencies', childKey)
  return nil
end

-- Whether linkExisting would refuse: job `id` of `q` exists with another parent that still exists.
local function parentConflict(q, id, parentRaw)
  if not parentRaw or parentRaw == '' then
    return false
  end
  local current = parentOf(q .. ':' .. id)
  if not current then
    return false
  end
  local parent = cjson.decode(parentRaw)
  return current.queue .. ':' .. current.id ~= parent.queue .. ':' .. parent.id
    and redis.call('EXISTS', current.queue .. ':' .. current.id) == 1
end
