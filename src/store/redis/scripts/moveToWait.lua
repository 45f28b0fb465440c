-- moveToWait: active -> first of its lane (next in wait, or first of its priority), spending no attempt
-- (RateLimitError, WaitingError): a job given back keeps its place, as in BullMQ.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] token ('' = do not check the lock)   ARGV[3] now (ms)
-- ARGV[4] call id: a resent call gets the first one's answer (includes/calls.lua)
-- Returns: 0 done; -1 no such job; -2 no lock (or a lapsed one); -6 lock held by another token; -3 job not active.
-- Events: waiting {jobId, prev: active}.
-- @include base
-- @include calls
local kept = answeredCall(ARGV[4])
if kept then
  return kept
end
local id = ARGV[1]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
if ARGV[2] ~= '' then
  local code = checkLock(id, jobKey, ARGV[2], tonumber(ARGV[3]))
  if code ~= 0 then
    return code
  end
end
if not redis.call('ZSCORE', activeKey, id) then
  return -3
end
leaveActive(id, jobKey)
addToWaitingHead(id, jobPriority(jobKey))
emit('waiting', 'jobId', id, 'prev', 'active')
signal()
keepAnswer(ARGV[4], 0)
return 0
