-- removeUnprocessedChildren: removes a parent's pending children that neither run nor failed,
-- recursively (BullMQ's removeUnprocessedChildren).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] the parent's id   ARGV[2] now (ms)
-- Each pending child key '<childQueue>:<childId>' (any queue) whose job neither holds a live lock nor
-- failed loses its own unprocessed children first, then is removed as remove does and leaves the
-- dependencies; a parent left with no pending child moves on (includes/flows.lua childRemoved).
-- Returns: 0.
-- Events: removed {jobId, prev} per child, in the child's queue; a released parent's waiting.
-- @include base
-- @include flows
-- @include jobs
local now = tonumber(ARGV[2])
local function removeChildren(q, id)
  local depsKey = q .. ':' .. id .. ':dependencies'
  for _, childKey in ipairs(redis.call('SMEMBERS', depsKey)) do
    local at = string.find(childKey, ':[^:]*$')
    local childQueue = string.sub(childKey, 1, at - 1)
    local childId = string.sub(childKey, at + 1)
    if redis.call('EXISTS', childKey) == 0 then
      redis.call('SREM', depsKey, childKey)
    else
      local lockUntil = tonumber(redis.call('ZSCORE', childQueue .. ':active', childId))
      local locked = lockUntil ~= nil and lockUntil >= lockClock() and (redis.call('HGET', childKey, 'token') or '') ~= ''
      if not locked and not redis.call('ZSCORE', childQueue .. ':failed', childId) then
        removeChildren(childQueue, childId)
        childRemoved(childQueue, childId, childKey, now, false)
        removeJobIn(childQueue, childId)
      end
    end
  end
end
removeChildren(queueName, ARGV[1])
return 0
