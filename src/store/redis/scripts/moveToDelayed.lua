-- moveToDelayed: active -> delayed until a timestamp, spending no attempt (step jobs, DelayedError).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] token ('' = do not check the lock)   ARGV[3] timestamp (ms)   ARGV[4] now (ms)
-- ARGV[5] call id: a resent call gets the first one's answer (includes/calls.lua)
-- Returns: 0 done; -1 no such job; -2 no lock (or a lapsed one); -6 lock held by another token; -3 job not active.
-- Events: delayed {jobId, delay = timestamp}.
-- @include base
-- @include calls
local kept = answeredCall(ARGV[5])
if kept then
  return kept
end
local id = ARGV[1]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
if ARGV[2] ~= '' then
  local code = checkLock(id, jobKey, ARGV[2], tonumber(ARGV[4]))
  if code ~= 0 then
    return code
  end
end
if not redis.call('ZSCORE', activeKey, id) then
  return -3
end
local due = tonumber(ARGV[3])
leaveActive(id, jobKey)
redis.call('HSET', jobKey, 'delay', int(math.max(0, due - tonumber(ARGV[4]))))
addToDelayed(id, due)
emit('delayed', 'jobId', id, 'delay', int(due))
signal()
keepAnswer(ARGV[5], 0)
return 0
