-- removeOrphan: the keys left of a job that is in no state (removeOrphanedJobs): its hash, when one is
-- left, and its sub-keys, including those BullMQ writes (`unsuccessful`, `lock`). Nothing is removed
-- when the id is in a state list: the check and the removal are one step, so a job added meanwhile stays.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id
-- Returns: 1 when a key was removed, 0 otherwise.
-- @include base
-- @include state
local id = ARGV[1]
if jobState(id) ~= 'unknown' then
  return 0
end
local jobKey = prefix .. id
local removed = redis.call('DEL', jobKey, jobKey .. ':logs', jobKey .. ':dependencies', jobKey .. ':processed',
  jobKey .. ':failed', jobKey .. ':ignored', jobKey .. ':unsuccessful', jobKey .. ':lock')
return removed > 0 and 1 or 0
