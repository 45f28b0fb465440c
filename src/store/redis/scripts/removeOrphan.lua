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
-- Each key only when it has the type a job's key of that name has: a queue-level key that happens to
-- match (another queue's, under a prefix ending in this queue's name: `<q>:<name>:failed` is a sorted
-- set) is never taken for a job's.
local kinds = { logs = 'list', dependencies = 'set', processed = 'hash', failed = 'hash', ignored = 'hash',
  unsuccessful = 'zset set', lock = 'string' }
local removed = 0
if redis.call('TYPE', jobKey)['ok'] == 'hash' then
  removed = removed + redis.call('DEL', jobKey)
end
for sub, kind in pairs(kinds) do
  local key = jobKey .. ':' .. sub
  if string.find(' ' .. kind .. ' ', ' ' .. redis.call('TYPE', key)['ok'] .. ' ', 1, true) then
    removed = removed + redis.call('DEL', key)
  end
end
return removed > 0 and 1 or 0
