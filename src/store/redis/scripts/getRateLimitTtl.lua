-- getRateLimitTtl: ms until fetching resumes, from the manual limit and the limiter's window (the
-- global rate limit when set, else the last worker limiter).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)
-- Returns: ms (0 = not limited).
-- @include base
-- @include fetch
local now = tonumber(ARGV[1])
local ttl = manualLimitTtl(now)
local max = tonumber(redis.call('HGET', metaKey, 'max')) or tonumber(redis.call('HGET', metaKey, 'limiter-max'))
local duration = tonumber(redis.call('HGET', metaKey, 'duration'))
  or tonumber(redis.call('HGET', metaKey, 'limiter-duration'))
if max and duration then
  local room, limTtl = limiterWindow(now, max, duration)
  if room == 0 and limTtl > ttl then
    ttl = limTtl
  end
end
return ttl
