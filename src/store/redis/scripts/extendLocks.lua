-- extendLocks: renews the locks of active jobs held by the given tokens.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms, unused: locks run on the server's clock)   ARGV[2] duration (ms)   ARGV[3..] pairs: id, token
-- Returns: the ids whose lock is gone (job missing, not active, or held by another token).
-- A lock that lapsed before now is gone, even before recoverStalled takes the job back: it is not renewed.
-- @include base
local now = tonumber(ARGV[1])
local untilMs = int(lockClock() + tonumber(ARGV[2]))
local lost = {}
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  local jobKey = prefix .. id
  if checkLock(id, jobKey, ARGV[i + 1], now) == 0 then
    redis.call('ZADD', activeKey, 'XX', untilMs, id)
    redis.call('HSET', jobKey, 'lockUntil', untilMs) -- checkLock reads it from the hash
  else
    lost[#lost + 1] = id
  end
end
return lost
