-- getRateLimitTtl: BullMQ's answer. BullMQ keeps one limiter key, a counter that lives as long as the
-- window, which a manual limit fills; here the manual limit and the window are fields of meta.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)   ARGV[2] maxJobs (0 = not given: the global rate limit's max, when set)
-- Returns: with a max: the ms the limit lasts when the count reached it (a manual limit counts as
--          reached), else 0. With no max: the ms the manual limit or the started window lasts, or
--          -2 when neither is in force (PTTL of a missing key).
-- @include base
-- @include take
-- @include groups
-- @include fetch
local now = tonumber(ARGV[1])
local maxJobs = tonumber(ARGV[2]) or 0
local count, ttl = 0, -2
local manual = manualLimitTtl(now)
if manual > 0 then
  count, ttl = math.huge, manual
else
  local v = redis.call('HMGET', metaKey, 'limiter-start', 'limiter-count', 'limiter-duration')
  local start, n, duration = tonumber(v[1]), tonumber(v[2]) or 0, tonumber(v[3])
  if start and duration and n > 0 and now >= start and now < start + duration then
    count, ttl = n, start + duration - now
  end
end
if maxJobs <= 0 then
  maxJobs = tonumber(redis.call('HGET', metaKey, 'max')) or 0
end
if maxJobs > 0 then
  if ttl > 0 and count >= maxJobs then
    return ttl
  end
  return 0
end
return ttl
