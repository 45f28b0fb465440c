-- fetchNext: promotes due delayed jobs, then moves up to n jobs waiting -> active under their tokens.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] now (ms)
-- ARGV[2] call id: a resent call gets the first one's jobs, if their tokens still hold them, and
--         takes no more (includes/calls.lua)
-- ARGV[3..] the fetch request: n, lockDuration, processedBy, limiter max, limiter duration, n tokens
--           (layout in includes/take.lua)
-- Returns: {jobs, rateLimitTtl, nextDelayedAt (-1 = none), paused (0/1)}, as includes/fetch.lua says.
-- Events: waiting {jobId, prev: delayed} per promoted job, active {jobId, prev: waiting} per fetched job.
-- @include base
-- @include calls
-- @include take
-- @include groups
-- @include fetch
local kept = answeredCall(ARGV[2])
if kept then
  return fetchReplay(kept)
end
local result, jobs = fetch(tonumber(ARGV[1]), readFetch(3))
if jobs and #jobs > 0 then
  keepAnswer(ARGV[2], fetchRecord(result, jobs))
end
return result
