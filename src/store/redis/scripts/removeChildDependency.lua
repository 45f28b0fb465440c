-- removeChildDependency: unlinks a job from its parent, releasing the parent when nothing else is pending.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] now (ms)
-- Returns: 1 when the job was a pending dependency of its parent; 0 when it has no parent or was
--          not pending (its parent link is dropped either way).
-- Events: the released parent's waiting {jobId, prev: waiting-children} (or delayed), in its queue.
-- @include base
-- @include flows
local id = ARGV[1]
local jobKey = prefix .. id
local parent = parentOf(jobKey)
if not parent then
  return 0
end
redis.call('HDEL', jobKey, 'parent')
if redis.call('SREM', parent.queue .. ':' .. parent.id .. ':dependencies', jobKey) == 0 then
  return 0
end
releaseParent(parent.queue, parent.id, tonumber(ARGV[2]), false)
return 1
