-- remove: deletes a job, its logs and its place in any list, unless a worker holds its lock.
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
-- ARGV[1] id   ARGV[2] now (ms)
-- Returns: 1 removed; 0 not found, or active with a lock that has not lapsed (nothing changes).
-- Events: removed {jobId, prev: the state it left}.
-- @include base
-- @include state
-- @include retention
local id = ARGV[1]
local now = tonumber(ARGV[2])
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return 0
end
local lockUntil = tonumber(redis.call('ZSCORE', activeKey, id))
if lockUntil and lockUntil >= now and redis.call('HEXISTS', jobKey, 'token') == 1 then
  return 0
end
local prev = jobState(id)
redis.call('LREM', waitKey, 0, id)
for _, key in ipairs({ prioritizedKey, delayedKey, activeKey, completedKey, failedKey, waitingChildrenKey }) do
  redis.call('ZREM', key, id)
end
deleteJob(id)
emit('removed', 'jobId', id, 'prev', prev)
return 1
