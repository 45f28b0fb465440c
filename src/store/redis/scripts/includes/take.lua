-- Taking jobs into active, for the fetch step (includes/fetch.lua; needs base): the request's
-- layout, the queue's limits, and the moves of single jobs. Grouped and batch takes: includes/groups.lua.
-- A fetch request sits in ARGV from index i:
--   ARGV[i]   n: number of tokens (-1 = no fetch requested)
--   ARGV[i+1] lockDuration (ms)
--   ARGV[i+2] processedBy ('' = none)
--   ARGV[i+3] limiter max (0 = no limiter)
--   ARGV[i+4] limiter duration (ms)
--   ARGV[i+5] the n lock tokens as a JSON array, or {t: tokens, g?: [group concurrency, group max,
--             group duration] (0 = none) with a worker's group limits, b?: [group affinity (0/1),
--             min jobs] for a worker's batches (includes/groups.lua takeBatch)}

local function readFetch(i)
  local n = tonumber(ARGV[i])
  if n < 0 then
    return nil
  end
  local req = {
    lockDuration = tonumber(ARGV[i + 1]),
    processedBy = ARGV[i + 2],
    limMax = tonumber(ARGV[i + 3]),
    limDuration = tonumber(ARGV[i + 4]),
    tokens = cjson.decode(ARGV[i + 5]),
  }
  if req.tokens.t then
    local g, b = req.tokens.g, req.tokens.b
    if g then
      req.groupConcurrency, req.groupMax, req.groupDuration = g[1], g[2], g[3]
    end
    if b then
      req.batch = { affinity = b[1] == 1, minJobs = b[2] }
    end
    req.tokens = req.tokens.t
  end
  return req
end

local function promoteDelayed(now)
  local due = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', '(' .. int((now + 1) * 4096), 'LIMIT', 0, 1000)
  for _, id in ipairs(due) do
    local jobKey = prefix .. id
    redis.call('ZREM', delayedKey, id)
    if redis.call('EXISTS', jobKey) == 1 then
      promoteToWaiting(id, jobKey)
    end
  end
end

local function nextDelayedAt()
  local first = redis.call('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
  if #first == 0 then
    return -1
  end
  return math.floor(tonumber(first[2]) / 4096)
end

-- ms left of a manual rate limit (queue.rateLimit / worker.rateLimit).
local function manualLimitTtl(now)
  local untilMs = tonumber(redis.call('HGET', metaKey, 'rate-limit-until')) or 0
  if untilMs > now then
    return untilMs - now
  end
  return 0
end

-- The worker limiter counts job starts per fixed window kept in meta (caller clock, not PEXPIRE,
-- so a store never reads a clock of its own). Returns room left in the window, or 0 and the ttl.
local function limiterWindow(now, max, duration)
  local start = tonumber(redis.call('HGET', metaKey, 'limiter-start'))
  local count = tonumber(redis.call('HGET', metaKey, 'limiter-count')) or 0
  -- A caller whose clock is a little behind the one that opened the window (its `now` computed
  -- before another's, arriving after it) stays in that window: resetting would let more jobs start.
  if not start or now >= start + duration then
    start = now
    count = 0
  end
  if count >= max then
    return 0, start + duration - now, start, count
  end
  return max - count, 0, start, count
end

-- Global concurrency (meta `concurrency`): how many more jobs may be active; nil = no limit.
local function concurrencyRoom(concurrency)
  if concurrency == nil then
    concurrency = redis.call('HGET', metaKey, 'concurrency')
  end
  concurrency = tonumber(concurrency)
  if not concurrency then
    return nil
  end
  return concurrency - redis.call('ZCARD', activeKey)
end

-- Jobs left active (complete, fail): under global concurrency a blocked worker may fetch again.
local function signalIfFreed()
  local room = concurrencyRoom()
  if room and room > 0 and waitingCount() > 0 then
    signal()
  end
end

-- The job fields a fetch returns, values only, in this order (codec.ts FETCHED_FIELDS reads them
-- by position): half the reply of an HGETALL, and no field names to decode.
local fetchedFields = { 'name', 'data', 'opts', 'progress', 'timestamp', 'delay', 'priority', 'attemptsMade',
  'attemptsStarted', 'stalledCounter', 'processedOn', 'finishedOn', 'returnvalue', 'failedReason', 'stacktrace',
  'processedBy', 'parent', 'token', 'defa', 'steps' }

-- Moves job `id` (just popped from waiting) to active under `token`, locked until `lockUntil`
-- (the caller adds it to <q>:active, one ZADD for the whole fetch). Returns {id, values of
-- fetchedFields as they are now}, or nil when the job no longer exists.
local function takeJob(id, token, now, req, lockUntil)
  local jobKey = prefix .. id
  local f = redis.call('HMGET', jobKey, unpack(fetchedFields))
  if not f[1] then
    return nil
  end
  local started = (tonumber(f[9]) or 0) + 1
  local at = int(now)
  f[9], f[11], f[18] = started, at, token
  if req.processedBy ~= '' then
    f[16] = req.processedBy
    redis.call('HSET', jobKey, 'token', token, 'lockUntil', lockUntil, 'processedOn', at, 'attemptsStarted', started,
      'processedBy', req.processedBy)
  else
    redis.call('HSET', jobKey, 'token', token, 'lockUntil', lockUntil, 'processedOn', at, 'attemptsStarted', started)
  end
  emit('active', 'jobId', id, 'prev', 'waiting')
  return { id, f }
end

-- The queue's own waiting jobs (not grouped ones), up to `room` in all: the wait list, then the
-- prioritized set. Ids are popped, and added to <q>:active, many per call: one RPOP, ZPOPMIN and
-- ZADD per fetch instead of one each per job (each call from Lua costs ~1 µs of Redis CPU beyond the
-- command). Appends to `jobs` and `activeArgs` (the caller's one ZADD).
local function takeOwn(now, req, room, jobs, activeArgs, lockUntil)
  while #jobs < room do
    local ids = redis.call('RPOP', waitKey, room - #jobs)
    if not ids then
      local popped = redis.call('ZPOPMIN', prioritizedKey, room - #jobs)
      if #popped == 0 then
        break
      end
      ids = {}
      for k = 1, #popped, 2 do
        ids[#ids + 1] = popped[k]
      end
    end
    for _, id in ipairs(ids) do
      local job = takeJob(id, req.tokens[#jobs + 1], now, req, lockUntil)
      if job then
        jobs[#jobs + 1] = job
        activeArgs[#activeArgs + 1] = lockUntil
        activeArgs[#activeArgs + 1] = id
      end
    end
  end
end
