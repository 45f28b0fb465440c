-- getCounts: the number of jobs per type, read in one step.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1..] types: wait | waiting | prioritized | active | delayed | waiting-children | completed |
--           failed | paused (= waiting + prioritized when paused, else 0); unknown types count 0
-- Returns: one count per type, in ARGV order.
-- @include base
local zsets = {
  prioritized = prioritizedKey, active = activeKey, delayed = delayedKey,
  ['waiting-children'] = waitingChildrenKey, completed = completedKey, failed = failedKey,
}
local counts = {}
for i, kind in ipairs(ARGV) do
  if kind == 'wait' or kind == 'waiting' then
    counts[i] = redis.call('LLEN', waitKey)
  elseif kind == 'paused' then
    counts[i] = isPaused() and waitingCount() or 0
  elseif zsets[kind] then
    counts[i] = redis.call('ZCARD', zsets[kind])
  else
    counts[i] = 0
  end
end
return counts
