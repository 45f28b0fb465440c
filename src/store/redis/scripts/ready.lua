-- ready: stamps a new queue with Docket's schema version, or checks an existing stamp.
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
-- ARGV[1] schema version Docket writes (e.g. '1')
-- ARGV[2..] further key suffixes BullMQ writes (paused, stalled, limiter, repeat, pc, stalled-check)
-- Returns: 0 ready (stamped now or before); -1 the queue holds keys another writer (BullMQ) made;
--          otherwise the foreign docket-version found (string), which this code does not know.
local found = redis.call('HGET', KEYS[8], 'docket-version')
if found then
  if found == ARGV[1] then
    return 0
  end
  return found
end
if redis.call('HEXISTS', KEYS[8], 'version') == 1 then
  return -1
end
for i = 2, 12 do
  if i ~= 8 and redis.call('EXISTS', KEYS[i]) == 1 then
    return -1
  end
end
for i = 2, #ARGV do
  if redis.call('EXISTS', KEYS[1] .. ARGV[i]) == 1 then
    return -1
  end
end
redis.call('HSET', KEYS[8], 'docket-version', ARGV[1])
return 0
