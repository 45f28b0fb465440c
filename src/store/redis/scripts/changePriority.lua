-- changePriority: sets a job's priority and lifo flag; a waiting job moves to its new place.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] priority (0 = none)   ARGV[3] lifo ('1'/'0')
-- Returns: 0 done, -1 no such job.  A job in another state keeps its place and uses the new
-- priority the next time it becomes waiting.
-- @include base
local id = ARGV[1]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
local priority = tonumber(ARGV[2])
local lifo = ARGV[3] == '1'
redis.call('HSET', jobKey, 'priority', int(priority))
if lifo then
  redis.call('HSET', jobKey, 'lifo', '1')
else
  redis.call('HDEL', jobKey, 'lifo')
end
local waiting = redis.call('ZREM', prioritizedKey, id) + redis.call('LREM', waitKey, 0, id)
if waiting > 0 then
  if lifo and priority > 0 then
    -- First among its priority (sequence 0), as BullMQ's changePriority puts a lifo job.
    redis.call('ZADD', prioritizedKey, int(priority * 4294967296), id)
  else
    addToWaiting(id, priority, lifo)
  end
end
return 0
