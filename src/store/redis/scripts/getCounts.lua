-- getCounts: the number of jobs per type, read in one step.
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
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
