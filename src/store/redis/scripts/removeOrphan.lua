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
-- A queue named `id` under the prefix `<q>` (another queue's keys, `<q>:<id>:failed` and so on, look
-- like this id's sub-keys): left alone. Ready stamps every queue's meta, so one of these exists.
if redis.call('EXISTS', jobKey .. ':meta', jobKey .. ':events', jobKey .. ':id') > 0 then
  return 0
end
local removed = 0
-- The id's own key only when it is a job hash: a key of the user's that matched (`<q>:stats`) stays.
if redis.call('TYPE', jobKey)['ok'] == 'hash' then
  removed = removed + redis.call('DEL', jobKey)
end
removed = removed + redis.call('DEL', jobKey .. ':logs', jobKey .. ':dependencies', jobKey .. ':processed',
  jobKey .. ':failed', jobKey .. ':ignored', jobKey .. ':unsuccessful', jobKey .. ':lock')
return removed > 0 and 1 or 0
