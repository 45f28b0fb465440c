-- clean: removes old jobs of one type, oldest first.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] cutoff (ms): jobs older than this, i.e. at or before now - grace (finishedOn for
--         completed/failed, processedOn for active, timestamp otherwise)
-- ARGV[2] limit (0 = no limit)   ARGV[3] type: completed | failed | active | delayed | wait | waiting |
--         prioritized | paused (= wait when the queue is paused)   ARGV[4] now (ms)
-- Returns: the removed ids. An active job whose lock is live (score >= now) is never removed, nor
-- the current iteration of a job scheduler (as BullMQ).
-- A removed child leaves its parent's pending children: a parent in this queue left with none is
-- deleted too (not counted), one in another queue moves to waiting (includes/flows.lua childRemoved).
-- Events: cleaned {count}.
-- A removed job gives up its deduplication id (includes/jobs.lua releaseDedupIn), as in BullMQ.
-- @include base
-- @include retention
-- @include jobs
-- @include schedulers
local cutoff, limit, kind, now = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local removed = {}
local function full()
  return limit > 0 and #removed >= limit
end
local function takeIfOld(id, field)
  if isCurrentIteration(id) then
    return false
  end
  local at = tonumber(redis.call('HGET', prefix .. id, field))
  if at and at <= cutoff then
    releaseDedupIn(queueName, id)
    deleteJob(id, now, true)
    removed[#removed + 1] = id
    return true
  end
  return false
end

if kind == 'completed' or kind == 'failed' then
  local setKey = kind == 'completed' and completedKey or failedKey
  -- Finished at or before cutoff: scores carry a fraction within one ms (finishScore, base.lua).
  local bound = '(' .. int(math.floor(cutoff) + 1)
  local ids
  if limit > 0 then
    ids = redis.call('ZRANGEBYSCORE', setKey, '-inf', bound, 'LIMIT', 0, limit)
  else
    ids = redis.call('ZRANGEBYSCORE', setKey, '-inf', bound)
  end
  for _, id in ipairs(ids) do
    redis.call('ZREM', setKey, id)
    releaseDedupIn(queueName, id)
    deleteJob(id, now, true)
    removed[#removed + 1] = id
  end
elseif kind == 'active' then
  -- Only lapsed locks: a live one belongs to a worker.
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', activeKey, '-inf', '(' .. int(lockClock()))) do
    if full() then break end
    if takeIfOld(id, 'processedOn') then
      redis.call('ZREM', activeKey, id)
    end
  end
elseif kind == 'delayed' or kind == 'prioritized' then
  local setKey = kind == 'delayed' and delayedKey or prioritizedKey
  for _, id in ipairs(redis.call('ZRANGE', setKey, 0, -1)) do
    if full() then break end
    if takeIfOld(id, 'timestamp') then
      redis.call('ZREM', setKey, id)
    end
  end
elseif kind == 'wait' or kind == 'waiting' or (kind == 'paused' and isPaused()) then
  local ids = redis.call('LRANGE', waitKey, 0, -1)
  -- The right end runs next and holds the oldest jobs.
  for i = #ids, 1, -1 do
    if full() then break end
    if takeIfOld(ids[i], 'timestamp') then
      redis.call('LREM', waitKey, 1, ids[i])
    end
  end
end
emit('cleaned', 'count', #removed)
return removed
