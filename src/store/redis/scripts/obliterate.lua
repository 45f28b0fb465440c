-- obliterate: removes the queue: its jobs and logs, then (once no job is left) events, meta, counters,
-- schedulers, metrics and the worker registry.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] force ('1' = also active jobs)   ARGV[2] count: the most jobs to remove in this call (<= 0 = all)
-- ARGV[3] now (ms)
-- A removed child of a parent in another queue leaves it (a parent left with no pending child moves
-- to waiting, as BullMQ's obliterate does).
-- Returns: -1 when active jobs exist and not force (nothing removed); else the number of jobs left
--          (0 = the queue is gone; call again while > 0).
-- A removed job gives up its deduplication id (includes/jobs.lua releaseDedupIn).
-- @include base
-- @include flows
-- @include retention
-- @include jobs
if ARGV[1] ~= '1' and redis.call('ZCARD', activeKey) > 0 then
  return -1
end
local budget = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if budget <= 0 then
  budget = math.huge
end
for _, key in ipairs({ activeKey, prioritizedKey, delayedKey, completedKey, failedKey, waitingChildrenKey }) do
  while budget > 0 do
    local ids = redis.call('ZRANGE', key, 0, math.min(budget, 1000) - 1)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      releaseDedupIn(queueName, id)
      deleteJob(id, now, 'queue')
    end
    redis.call('ZREMRANGEBYRANK', key, 0, #ids - 1)
    budget = budget - #ids
  end
end
while budget > 0 do
  local ids = redis.call('LRANGE', waitKey, 0, math.min(budget, 1000) - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    releaseDedupIn(queueName, id)
    deleteJob(id, now, 'queue')
  end
  redis.call('LTRIM', waitKey, #ids, -1)
  budget = budget - #ids
end
-- Grouped waiting jobs, group by group (deleteJob takes each out of its group's set).
local groupsLeft = 0
for _, gid in ipairs(redis.call('ZRANGE', prefix .. 'gr:all', 0, -1)) do
  local groupKey = prefix .. 'gr:w:' .. gid
  while budget > 0 do
    local ids = redis.call('ZRANGE', groupKey, 0, math.min(budget, 1000) - 1)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      releaseDedupIn(queueName, id)
      deleteJob(id, now, 'queue')
    end
    budget = budget - #ids
  end
  groupsLeft = groupsLeft + redis.call('ZCARD', groupKey)
end
local left = groupsLeft + redis.call('ZCARD', activeKey) + waitingCount() + redis.call('ZCARD', delayedKey)
  + redis.call('ZCARD', completedKey) + redis.call('ZCARD', failedKey) + redis.call('ZCARD', waitingChildrenKey)
if left == 0 then
  for _, gid in ipairs(redis.call('ZRANGE', prefix .. 'gr:all', 0, -1)) do
    redis.call('DEL', prefix .. 'gr:w:' .. gid, prefix .. 'gr:a:' .. gid, prefix .. 'gr:cfg:' .. gid)
  end
  redis.call('DEL', prefix .. 'gr:all', prefix .. 'gr:ready')
  for _, schedulerId in ipairs(redis.call('ZRANGE', prefix .. 'repeat', 0, -1)) do
    redis.call('DEL', prefix .. 'repeat:' .. schedulerId)
  end
  redis.call('DEL', metaKey, eventsKey, markerKey, idKey, prefix .. 'repeat', prefix .. 'workers',
    prefix .. 'workers:alive', prefix .. 'metrics:completed', prefix .. 'metrics:completed:data',
    prefix .. 'metrics:failed', prefix .. 'metrics:failed:data', prefix .. 'metrics:minutes')
  -- Answers kept for resent calls (includes/calls.lua; they expire within a minute anyway).
  local pattern = string.gsub(prefix, '([%*%?%[%]\\])', '\\%1') .. 'call:*'
  local cursor = '0'
  repeat
    local page = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = page[1]
    for _, key in ipairs(page[2]) do
      redis.call('DEL', key)
    end
  until cursor == '0'
end
return left
