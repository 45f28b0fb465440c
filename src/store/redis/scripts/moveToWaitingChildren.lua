-- moveToWaitingChildren: active -> waiting-children while the job has pending children.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] token ('' = do not check the lock)   ARGV[3] now (ms)
-- ARGV[4] call id: a resent call gets the first one's answer (includes/calls.lua)
-- Returns: 1 moved; 0 no pending child (nothing changes); -1 no such job; -2 no lock (or a lapsed
--          one); -6 lock held by another token; -3 job not active (only without a token); -9 a child
--          failed under failParentOnFailure (nothing changes).
-- Events: waiting-children {jobId}.
-- @include base
-- @include flows
-- @include calls
local kept = answeredCall(ARGV[4])
if kept then
  return kept
end
local id = ARGV[1]
local now = tonumber(ARGV[3])
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
if ARGV[2] ~= '' then
  local code = checkLock(id, jobKey, ARGV[2], now)
  if code ~= 0 then
    return code
  end
end
if not redis.call('ZSCORE', activeKey, id) then
  return -3
end
local blocker = finishBlocker(jobKey, true)
if blocker == -9 then
  return -9
elseif blocker == 0 then
  return 0
end
leaveActive(id, jobKey)
redis.call('ZADD', waitingChildrenKey, int(now), id)
emit('waiting-children', 'jobId', id)
keepAnswer(ARGV[4], 1)
return 1
