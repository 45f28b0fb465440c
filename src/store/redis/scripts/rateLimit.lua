-- rateLimit: no job of the queue is fetched until now + ms (manual rate limit).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)   ARGV[2] ms (<= 0 lifts the manual limit)
-- Returns: 0.
-- A manual limit replaces the limiter's window, as BullMQ's fills its one limiter key: once it
-- lapses, the window starts afresh (and getRateLimitTtl answers -2 until a job starts one).
-- @include base
local ms = tonumber(ARGV[2])
if ms > 0 then
  redis.call('HSET', metaKey, 'rate-limit-until', int(tonumber(ARGV[1]) + ms))
  redis.call('HDEL', metaKey, 'limiter-start', 'limiter-count')
else
  redis.call('HDEL', metaKey, 'rate-limit-until')
end
return 0
