-- rateLimit: no job of the queue is fetched until now + ms (manual rate limit).
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
-- ARGV[1] now (ms)   ARGV[2] ms (<= 0 lifts the manual limit)
-- Returns: 0.
-- @include base
local ms = tonumber(ARGV[2])
if ms > 0 then
  redis.call('HSET', metaKey, 'rate-limit-until', int(tonumber(ARGV[1]) + ms))
else
  redis.call('HDEL', metaKey, 'rate-limit-until')
end
return 0
