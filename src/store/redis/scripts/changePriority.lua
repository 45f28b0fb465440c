-- changePriority: sets a job's priority; a waiting job moves to its new lane, first of it with lifo,
-- else last (as BullMQ; the job's own lifo option is not changed).
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
local waiting = redis.call('ZREM', prioritizedKey, id) + redis.call('LREM', waitKey, 0, id)
if groupUnwaitIn(queueName, id) then
  waiting = 1 -- its priority within its group
end
if waiting > 0 then
  if lifo then
    addToWaitingHead(id, priority)
  else
    addToWaiting(id, priority, false)
  end
end
return 0
