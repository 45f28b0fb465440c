-- removeChildDependency: unlinks a pending child from its parent, releasing the parent when nothing
-- else is pending.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] now (ms)
-- Returns: 0 unlinked (its parent link dropped); 1 it has no parent or was not pending (nothing
--          changes); -1 no such job; -5 its parent no longer exists.
-- Events: the released parent's waiting {jobId, prev: waiting-children} (or delayed), in its queue.
-- @include base
-- @include flows
local id = ARGV[1]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
local parent = parentOf(jobKey)
if not parent then
  return 1
end
local parentKey = parent.queue .. ':' .. parent.id
if redis.call('EXISTS', parentKey) == 0 then
  return -5
end
if redis.call('SREM', parentKey .. ':dependencies', jobKey) == 0 then
  return 1
end
redis.call('HDEL', jobKey, 'parent')
releaseParent(parent.queue, parent.id, tonumber(ARGV[2]), false)
return 0
