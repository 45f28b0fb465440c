-- getRateLimitTtl: ms until fetching resumes, from the manual limit and the limiter's window (the
-- global rate limit when set, else the last worker limiter).
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
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
