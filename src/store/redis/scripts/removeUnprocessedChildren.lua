-- removeUnprocessedChildren: removes a parent's pending children that are not active, recursively.
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
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
