-- remove: deletes a job, its logs and its place in any list, unless a worker holds its lock.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] now (ms)   ARGV[3] '1' to remove its children (any outcome) recursively too
-- A removed child leaves its parent's pending dependencies; a parent left with none is released.
-- Children whose lock is live are kept (and stay linked to nothing).
-- Returns: 1 removed; 0 not found, or it (or, with children, one of its pending children, recursively)
--          is active with a lock that has not lapsed (nothing changes); -8 it is the current
--          iteration of a job scheduler (remove the scheduler instead; nothing changes).
-- Events: removed {jobId, prev: the state it left} for the job and each removed child; a released
--         parent's waiting (or delayed), in its queue.
-- @include base
-- @include state
-- @include retention
-- @include flows
-- @include jobs
-- @include schedulers
local id = ARGV[1]
local now = tonumber(ARGV[2])
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return 0
end
if isCurrentIteration(id) then
  return -8
end

local function lockedIn(q, jobId)
  local lockUntil = tonumber(redis.call('ZSCORE', q .. ':active', jobId))
  return lockUntil ~= nil and lockUntil >= lockClock() and (redis.call('HGET', q .. ':' .. jobId, 'token') or '') ~= ''
end

local function removeChildrenOf(q, parentId)
  local base = q .. ':' .. parentId
  local keys = redis.call('SMEMBERS', base .. ':dependencies')
  for _, suffix in ipairs({ ':processed', ':failed', ':ignored' }) do
    for _, k in ipairs(redis.call('HKEYS', base .. suffix)) do
      keys[#keys + 1] = k
    end
  end
  for _, childKey in ipairs(keys) do
    local at = string.find(childKey, ':[^:]*$')
    local childQueue = string.sub(childKey, 1, at - 1)
    local childId = string.sub(childKey, at + 1)
    if redis.call('EXISTS', childKey) == 1 and not lockedIn(childQueue, childId) then
      removeChildrenOf(childQueue, childId)
      removeJobIn(childQueue, childId)
    end
  end
end

-- Whether job `jobId` of `q` or one of its pending children (recursively) holds a live lock.
local function lockedTree(q, jobId)
  if lockedIn(q, jobId) then
    return true
  end
  for _, childKey in ipairs(redis.call('SMEMBERS', q .. ':' .. jobId .. ':dependencies')) do
    local at = string.find(childKey, ':[^:]*$')
    if lockedTree(string.sub(childKey, 1, at - 1), string.sub(childKey, at + 1)) then
      return true
    end
  end
  return false
end

if ARGV[3] == '1' then
  if lockedTree(queueName, id) then
    return 0
  end
  removeChildrenOf(queueName, id)
elseif lockedIn(queueName, id) then
  return 0
end
childRemoved(queueName, id, jobKey, now, false)
removeJobIn(queueName, id)
return 1
