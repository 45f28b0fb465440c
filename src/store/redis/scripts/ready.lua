-- ready: stamps a new queue with Docket's schema version, or checks an existing stamp.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] schema version Docket writes (e.g. '1')
-- ARGV[2..] the suffixes of the queue's other keys: Docket's own (keys.ts SUFFIXES, but meta), then
--           those only BullMQ writes (paused, stalled, limiter, repeat, pc, stalled-check)
-- Returns: 0 ready (stamped now or before); -1 the queue holds keys another writer (BullMQ) made;
--          otherwise the foreign docket-version found (string), which this code does not know.
local metaKey = KEYS[1] .. 'meta'
local found = redis.call('HGET', metaKey, 'docket-version')
if found then
  if found == ARGV[1] then
    return 0
  end
  return found
end
if redis.call('HEXISTS', metaKey, 'version') == 1 then
  return -1
end
-- Unstamped: a new queue has none of its keys yet.
for i = 2, #ARGV do
  if redis.call('EXISTS', KEYS[1] .. ARGV[i]) == 1 then
    return -1
  end
end
redis.call('HSET', metaKey, 'docket-version', ARGV[1])
return 0
