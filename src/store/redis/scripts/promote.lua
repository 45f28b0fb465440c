-- promote: one delayed job -> waiting now.
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
-- ARGV[1] id
-- Returns: 0 done, -1 no such job, -3 not delayed.  Events: waiting {jobId, prev: delayed}.
-- @include base
local id = ARGV[1]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
if redis.call('ZREM', delayedKey, id) == 0 then
  return -3
end
promoteToWaiting(id, jobKey)
signal()
return 0
