-- fetchNext: promotes due delayed jobs, then moves up to n jobs waiting -> active under their tokens.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)
-- ARGV[2..] the fetch request: n, lockDuration, processedBy, limiter max, limiter duration, n tokens
--           (layout in includes/fetch.lua)
-- Returns: {jobs, rateLimitTtl, nextDelayedAt (-1 = none), paused (0/1)}, as includes/fetch.lua says.
-- Events: waiting {jobId, prev: delayed} per promoted job, active {jobId, prev: waiting} per fetched job.
-- @include base
-- @include fetch
return fetch(tonumber(ARGV[1]), readFetch(2))
