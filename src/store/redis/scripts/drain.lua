-- drain: removes every waiting and prioritized job, and the delayed ones when asked; job
-- schedulers' current iterations stay (as BullMQ).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] delayed too ('1'/'0')   ARGV[2] now (ms)
-- A removed child leaves its parent's pending children: a parent in this queue left with none is
-- deleted too, one in another queue moves to waiting (includes/flows.lua childRemoved).
-- Returns: how many jobs were removed.  No event (as BullMQ). A removed job gives up its
-- deduplication id (includes/jobs.lua releaseDedupIn), as in BullMQ.
-- @include base
-- @include retention
-- @include jobs
-- @include schedulers
local removed = 0
local now = tonumber(ARGV[2])
local function removeAll(ids, setKey)
  for _, id in ipairs(ids) do
    if not isCurrentIteration(id) then
      releaseDedupIn(queueName, id)
      deleteJob(id, now, true)
      if setKey then
        redis.call('ZREM', setKey, id)
      end
      removed = removed + 1
    end
  end
end
local waiting = redis.call('LRANGE', waitKey, 0, -1)
redis.call('DEL', waitKey)
removeAll(waiting)
for _, id in ipairs(waiting) do
  if redis.call('EXISTS', prefix .. id) == 1 then
    redis.call('RPUSH', waitKey, id)
  end
end
removeAll(redis.call('ZRANGE', prioritizedKey, 0, -1), prioritizedKey)
-- Grouped waiting jobs (deleteJob takes each out of its group).
for _, gid in ipairs(redis.call('ZRANGE', prefix .. 'gr:ready', 0, -1)) do
  removeAll(redis.call('ZRANGE', prefix .. 'gr:w:' .. gid, 0, -1))
end
if ARGV[1] == '1' then
  removeAll(redis.call('ZRANGE', delayedKey, 0, -1), delayedKey)
end
return removed
