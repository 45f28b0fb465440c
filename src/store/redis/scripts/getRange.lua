-- getRange: ids of jobs per type, each type sliced to [start, end] then concatenated without duplicates.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] start   ARGV[2] end (-1 = to the end)   ARGV[3] asc ('1' oldest / next-to-run first, '0' newest first)
-- ARGV[4..] types (as getCounts; 'paused' lists the wait list when the queue is paused)
-- Returns: ids.  Orders: wait in run order (the list's right end runs next); ZSETs by score
-- (prioritized in run order, delayed by due time, completed/failed by finishedOn, active by lock expiry).
-- @include base
local start, stop, asc = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
local zsets = {
  prioritized = prioritizedKey, active = activeKey, delayed = delayedKey,
  ['waiting-children'] = waitingChildrenKey, completed = completedKey, failed = failedKey,
}
local function waitRange()
  if not asc then
    return redis.call('LRANGE', waitKey, start, stop)
  end
  -- Run order reads the list from its right end: take the mirrored slice and reverse it.
  local lo = stop == -1 and 0 or -(stop + 1)
  local slice = redis.call('LRANGE', waitKey, lo, -(start + 1))
  local out = {}
  for i = #slice, 1, -1 do
    out[#out + 1] = slice[i]
  end
  return out
end
local seen, out = {}, {}
for i = 4, #ARGV do
  local kind = ARGV[i]
  local ids = {}
  if kind == 'wait' or kind == 'waiting' or (kind == 'paused' and isPaused()) then
    ids = waitRange()
  elseif zsets[kind] then
    ids = redis.call(asc and 'ZRANGE' or 'ZREVRANGE', zsets[kind], start, stop)
  end
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
end
return out
