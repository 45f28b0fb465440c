-- Shared names and helpers, inlined at load time into every script that says `-- @include base`.
-- Every script receives one key, KEYS[1] = '<q>:', the queue's prefix (keys.ts `queuePrefix`); the
-- queue's other keys are built from it (passing all twelve cost the client and Redis ~11 arguments
-- per call). They share KEYS[1]'s hash slot: on a Redis Cluster `<q>` carries a {hash tag}, and a
-- flow's queues one tag (cluster.ts refuses others before any script runs):
--   <q>:<id>, <q>:<id>:logs  HASH / LIST  job hashes and their logs
--   <q>:wait               LIST   runnable, non-prioritized ids (LPUSH = back, RPOP = next)
--   <q>:prioritized        ZSET   score priority * 2^32 + sequence
--   <q>:delayed            ZSET   score due * 4096 + sequence (FIFO within one ms)
--   <q>:active             ZSET   score = lock expiry (ms); the job hash holds `token`
--   <q>:completed          ZSET   score = finishedOn (+ a fraction orders finishes within one ms)
--   <q>:failed             ZSET   score = finishedOn (the same)
--   <q>:meta               HASH   docket-version, paused, rate limit and sequence state
--   <q>:events             STREAM event log, MAXLEN ~ the meta's opts.maxLenEvents (10000)
--   <q>:marker             ZSET   wake-up signal for blocked workers (BZPOPMIN)
--   <q>:id                 STRING counter for auto ids
--   <q>:waiting-children   ZSET   parents waiting for their children (score = timestamp)
--   <q>:metrics:minutes    HASH   '<minute>:c|f|s' -> jobs completed / failed for good / stalled in that
--                                 minute (floor(ms / 60000)); always kept, see countMinute below
-- Groups (issue 22, BullMQ Pro's groups; a grouped job's hash has `grp`, its group's id):
--   <q>:gr:ready           ZSET   groups that may have waiting jobs, score = turn (lowest goes next)
--   <q>:gr:all             ZSET   every group that had a job, score = first turn (getGroups)
--   <q>:gr:w:<group>       ZSET   the group's waiting ids, score priority * 2^32 ± sequence
--   <q>:gr:a:<group>       SET    the group's active ids (its concurrency counts them)
--   <q>:gr:cfg:<group>     HASH   paused, concurrency, max, duration (its own settings) and its
--                                 rate window: window-end, window-count, limited-until
local prefix = KEYS[1]
local waitKey = prefix .. 'wait'
local prioritizedKey = prefix .. 'prioritized'
local delayedKey = prefix .. 'delayed'
local activeKey = prefix .. 'active'
local completedKey = prefix .. 'completed'
local failedKey = prefix .. 'failed'
local metaKey = prefix .. 'meta'
local eventsKey = prefix .. 'events'
local markerKey = prefix .. 'marker'
local idKey = prefix .. 'id'
local waitingChildrenKey = prefix .. 'waiting-children'

-- Keep in step with SCHEMA_VERSION in keys.ts.
local docketVersion = '1'

-- Numbers go to Redis as plain integer text: Lua's own tostring switches to exponents past 1e14.
local function int(n)
  return string.format('%.0f', n)
end

-- The score of a job finishing at `now` (whole ms) in a finished set (<q>:completed, <q>:failed):
-- `now`, or `<now>.<k>` (k = 1..999) just above the newest entry when one already finished within
-- the same ms. The set then orders jobs by when they finished, also within one ms, where equal
-- scores would fall back to the id as a string ("10" before "7"), so retention by count could drop
-- job 10 and keep job 7. A bound "finished at or before ms m" on these scores reads "< m + 1".
-- The newest score given per finished set in this call (cleared as each call starts, with the
-- events): a batch of 50 completions read the set's top once instead of 50 times. A job removed
-- by retention since only makes the next score a step higher than needed, never out of order.
local finishTops = {}

local function finishScore(setKey, now)
  local last = finishTops[setKey]
  if not last then
    local top = redis.call('ZREVRANGE', setKey, 0, 0, 'WITHSCORES')
    last = top[2] or false
  end
  local score = int(now)
  local lastN = tonumber(last)
  if lastN and lastN >= now and lastN < now + 1 then
    local k = math.floor((lastN - now) * 1000 + 0.5) + 1
    score = k <= 999 and string.format('%.0f.%03d', now, k) or last
  end
  if not lastN or tonumber(score) > lastN then
    finishTops[setKey] = score
  else
    finishTops[setKey] = last
  end
  return score
end

-- The light per-minute counts (Store.getMinuteCounts, the dashboard's throughput and stalled count),
-- recorded whatever the opt-in metrics: one HINCRBY per call with the call's count, `kind` 'c'
-- (completed), 'f' (failed for good) or 's' (stalled). A field's first increment opens a new minute
-- and only then are the fields older than MINUTES_KEPT dropped (a few hundred fields at most).
local MINUTES_KEPT = 120
local function countMinute(kind, n, now)
  if n <= 0 then
    return
  end
  local minutesKey = prefix .. 'metrics:minutes'
  local minute = math.floor(now / 60000)
  if redis.call('HINCRBY', minutesKey, int(minute) .. ':' .. kind, n) == n then
    for _, field in ipairs(redis.call('HKEYS', minutesKey)) do
      local m = tonumber(string.match(field, '^(%d+):'))
      if m and m <= minute - MINUTES_KEPT then
        redis.call('HDEL', minutesKey, field)
      end
    end
  end
end

-- The qualified name of this script's queue (KEYS[1] without its trailing ':').
local queueName = string.sub(prefix, 1, -2)

-- The `...In(q, ...)` helpers act on any queue `q` (qualified name): flows move jobs of other
-- queues (a child's parent) in the same step. Keys are built from `q` as keys.ts names them.
--
-- Events are collected during a call and written when it ends (`flushEvents`, run by the library
-- wrapper in scripts.ts): one stream entry per queue per call. A call with one event writes it as
-- is (`event`, name, then its fields); one with several writes `event` 'batch', `events` a JSON list
-- of [name, field, value, ...] arrays, in order, which the client unpacks (codec.ts toEvents). One
-- XADD per job per transition was about a tenth of a fetched-and-completed job's Redis CPU.
local pendingEvents, pendingQueues
-- The server's time in ms for this call (lockClock); a library's locals outlive a call, so it is
-- cleared with the events when each call starts.
local serverMs

-- Per call: whether a queue ever had a grouped job (meta `groups`), read once per queue and call.
local groupQueues = {}

local function resetEvents()
  groupQueues = {}
  pendingEvents, pendingQueues = {}, {}
  serverMs = nil
  finishTops = {}
end

-- Lock expiries are read and written on the Redis server's clock, as BullMQ's lock keys expire by
-- TTL: a caller whose clock runs ahead (or a test's fake clock) must not lose, or keep, a lock. Job
-- timestamps (processedOn, finishedOn, …) stay on the caller's clock, as in BullMQ. Read once per call.
local function lockClock()
  if not serverMs then
    local t = redis.call('TIME')
    serverMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return serverMs
end

local function emitIn(q, event, ...)
  local list = pendingEvents[q]
  if not list then
    list = {}
    pendingEvents[q] = list
    pendingQueues[#pendingQueues + 1] = q
  end
  local entry = { event, ... }
  for i = 2, #entry do
    if type(entry[i]) == 'number' then
      entry[i] = int(entry[i])
    end
  end
  list[#list + 1] = entry
end

local function flushEvents()
  for _, q in ipairs(pendingQueues) do
    local list = pendingEvents[q]
    -- The cap a Queue recorded in the meta (BullMQ's streams.events.maxLen), else BullMQ's default.
    local maxLen = tonumber(redis.call('HGET', q .. ':meta', 'opts.maxLenEvents')) or 10000
    if #list == 1 then
      redis.call('XADD', q .. ':events', 'MAXLEN', '~', maxLen, '*', 'event', unpack(list[1]))
    else
      redis.call('XADD', q .. ':events', 'MAXLEN', '~', maxLen, '*', 'event', 'batch', 'events', cjson.encode(list))
    end
  end
  resetEvents()
end

local function emit(event, ...)
  emitIn(queueName, event, ...)
end

local function isPaused()
  return redis.call('HEXISTS', metaKey, 'paused') == 1
end

-- Wakes one blocked worker (BZPOPMIN on the marker). A paused queue has nothing to hand out.
local function signalIn(q)
  if redis.call('HEXISTS', q .. ':meta', 'paused') == 0 then
    redis.call('ZADD', q .. ':marker', 0, '0')
  end
end

local function signal()
  signalIn(queueName)
end

local function addToDelayedIn(q, id, due)
  local seq = redis.call('HINCRBY', q .. ':meta', 'delayed-seq', 1) % 4096
  redis.call('ZADD', q .. ':delayed', int(due * 4096 + seq), id)
end

local function addToDelayed(id, due)
  addToDelayedIn(queueName, id, due)
end

-- Whether queue `q` ever had a grouped job: only then is a job's `grp` read as it becomes waiting or
-- leaves active, so the ungrouped path costs one HEXISTS per call, not a read per job.
local function hasGroupsIn(q)
  local known = groupQueues[q]
  if known == nil then
    known = redis.call('HEXISTS', q .. ':meta', 'groups') == 1
    groupQueues[q] = known
  end
  return known
end

local function markGroupsIn(q)
  if not hasGroupsIn(q) then
    redis.call('HSET', q .. ':meta', 'groups', 1)
    groupQueues[q] = true
  end
end

-- The group of job `id` of queue `q`, or nil.
local function groupOfIn(q, id)
  if not hasGroupsIn(q) then
    return nil
  end
  return redis.call('HGET', q .. ':' .. id, 'grp') or nil
end

-- Puts job `id` in group `gid`'s waiting set, first of its priority when `head`; the group gets a
-- turn (the last) unless it has one.
local function addToGroupIn(q, gid, id, priority, head)
  local seq = redis.call('HINCRBY', q .. ':meta', 'group-seq', 1)
  local n = seq % 2147483648
  local score = priority * 4294967296 + n
  if head then
    score = priority * 4294967296 - n
  end
  redis.call('ZADD', q .. ':gr:w:' .. gid, int(score), id)
  redis.call('ZADD', q .. ':gr:ready', 'NX', seq, gid)
  redis.call('ZADD', q .. ':gr:all', 'NX', seq, gid)
end

-- Takes a waiting grouped job out of its group's set: its group id, or nil when it was not there.
local function groupUnwaitIn(q, id)
  local gid = groupOfIn(q, id)
  if gid and redis.call('ZREM', q .. ':gr:w:' .. gid, id) == 1 then
    return gid
  end
  return nil
end

-- A grouped job leaves active: its group's slot is free again, and a blocked worker may take the
-- group's next job.
local function groupLeftIn(q, id)
  local gid = groupOfIn(q, id)
  if gid and redis.call('SREM', q .. ':gr:a:' .. gid, id) == 1 and redis.call('EXISTS', q .. ':gr:w:' .. gid) == 1 then
    redis.call('ZADD', q .. ':marker', 0, '0')
  end
end

-- `front` puts a non-prioritized job next in line (lifo, stalled, handed back by its worker); a
-- grouped job goes to its group instead, first of its priority when `front`.
local function addToWaitingIn(q, id, priority, front)
  local gid = groupOfIn(q, id)
  if gid then
    addToGroupIn(q, gid, id, priority, front)
  elseif priority > 0 then
    local seq = redis.call('HINCRBY', q .. ':meta', 'priority-seq', 1) % 4294967296
    redis.call('ZADD', q .. ':prioritized', int(priority * 4294967296 + seq), id)
  elseif front then
    redis.call('RPUSH', q .. ':wait', id)
  else
    redis.call('LPUSH', q .. ':wait', id)
  end
end

local function addToWaiting(id, priority, front)
  addToWaitingIn(queueName, id, priority, front)
end

-- Puts job `id` first of its lane: next of the non-prioritized jobs, or first of its priority (as
-- BullMQ's pushBackJobWithPriority), so that a job given back keeps its place. Within a priority the
-- one put first last runs first, as in the plain lane (BullMQ gives them all sequence 0 and orders
-- them by id as a string): score priority · 2^32 - sequence, below the priority's added jobs and,
-- until the sequence passes 2^31, above the jobs of the priority before.
local function addToWaitingHead(id, priority)
  local gid = groupOfIn(queueName, id)
  if gid then
    addToGroupIn(queueName, gid, id, priority, true)
  elseif priority > 0 then
    local seq = redis.call('HINCRBY', metaKey, 'priority-seq', 1) % 2147483648
    redis.call('ZADD', prioritizedKey, int(priority * 4294967296 - seq), id)
  else
    redis.call('RPUSH', waitKey, id)
  end
end

local function jobPriority(jobKey)
  return tonumber(redis.call('HGET', jobKey, 'priority')) or 0
end

local function isLifo(jobKey)
  return redis.call('HGET', jobKey, 'lifo') == '1'
end

-- 0 when `token` holds a live lock on active job `id`; else -1 (no job), -2 (no lock, or a lock that
-- lapsed on the server's clock, as an expired Redis lock key would be), -6 (held by another token).
-- `now` is unused (kept for the callers' shape): the lock is judged on lockClock().
-- The empty token (BullMQ's '0') skips the lock check: 0 when the job is active, else -3.
-- `fields` (optional) are more hash fields to read in the same call; their values come back second.
local function checkLock(id, jobKey, token, now, fields)
  -- Every job hash has `name`: an absent one means no such job.
  -- The lock's expiry is kept in the hash as well as in <q>:active (fetch and extendLocks write
  -- both), so one read answers the whole check.
  local read = redis.call('HMGET', jobKey, 'name', 'token', 'lockUntil', unpack(fields or {}))
  if not read[1] then
    return -1
  end
  local values = { unpack(read, 4) }
  if token == '' then
    if not redis.call('ZSCORE', activeKey, id) then
      return -3, values
    end
    return 0, values
  end
  local held = read[2]
  if held == '' then
    held = false -- complete and fail leave an empty token rather than deleting the field
  end
  local lockUntil = tonumber(read[3])
  if not held or not lockUntil or lockUntil < lockClock() then
    return -2, values
  end
  if held ~= token then
    return -6, values
  end
  return 0, values
end

-- What complete and fail read with the lock check (f[1..5] of checkLock's second result).
local finishFields = { 'attemptsMade', 'parent', 'opts', 'priority', 'lifo' }

local function leaveActive(id, jobKey)
  groupLeftIn(queueName, id)
  redis.call('ZREM', activeKey, id)
  redis.call('HDEL', jobKey, 'token')
end

local function waitingCount()
  return redis.call('LLEN', waitKey) + redis.call('ZCARD', prioritizedKey)
end

-- delayed -> waiting (promotion when due, promote, promoteJobs). The caller removed it from delayed.
local function promoteToWaiting(id, jobKey)
  redis.call('HSET', jobKey, 'delay', 0)
  addToWaiting(id, jobPriority(jobKey), isLifo(jobKey))
  emit('waiting', 'jobId', id, 'prev', 'delayed')
end
