-- drain: removes every waiting and prioritized job, and the delayed ones when asked.
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
-- ARGV[1] delayed too ('1'/'0')
-- Returns: how many jobs were removed.  No event (as BullMQ).
-- @include base
-- @include retention
local removed = 0
local function removeAll(ids)
  for _, id in ipairs(ids) do
    deleteJob(id)
    removed = removed + 1
  end
end
removeAll(redis.call('LRANGE', waitKey, 0, -1))
redis.call('DEL', waitKey)
removeAll(redis.call('ZRANGE', prioritizedKey, 0, -1))
redis.call('DEL', prioritizedKey)
if ARGV[1] == '1' then
  removeAll(redis.call('ZRANGE', delayedKey, 0, -1))
  redis.call('DEL', delayedKey)
end
return removed
