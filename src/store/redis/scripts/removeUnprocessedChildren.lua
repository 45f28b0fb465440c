-- removeUnprocessedChildren: removes a parent's pending children that are not active, recursively.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] the parent's id
-- Each pending child key '<childQueue>:<childId>' (any queue) whose job is not active loses its
-- own unprocessed children first, then is removed as remove does and leaves the dependencies.
-- Returns: 0.
-- Events: removed {jobId, prev} per child, in the child's queue.
-- @include base
-- @include jobs
local function removeChildren(q, id)
  local depsKey = q .. ':' .. id .. ':dependencies'
  for _, childKey in ipairs(redis.call('SMEMBERS', depsKey)) do
    local at = string.find(childKey, ':[^:]*$')
    local childQueue = string.sub(childKey, 1, at - 1)
    local childId = string.sub(childKey, at + 1)
    if not redis.call('ZSCORE', childQueue .. ':active', childId) then
      if redis.call('EXISTS', childKey) == 1 then
        removeChildren(childQueue, childId)
        removeJobIn(childQueue, childId)
      end
      redis.call('SREM', depsKey, childKey)
    end
  end
end
removeChildren(queueName, ARGV[1])
return 0
