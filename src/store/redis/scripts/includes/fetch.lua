-- The fetch step shared by fetchNext, complete and fail (needs base).
-- A fetch request sits in ARGV from index i:
--   ARGV[i]   n: number of tokens (-1 = no fetch requested)
--   ARGV[i+1] lockDuration (ms)
--   ARGV[i+2] processedBy ('' = none)
--   ARGV[i+3] limiter max (0 = no limiter)
--   ARGV[i+4] limiter duration (ms)
--   ARGV[i+5] the n lock tokens as a JSON array, or {t: tokens, g: [group concurrency, group max,
--             group duration]} with a worker's group limits (0 = none)
-- Result: { jobs, rateLimitTtl, nextDelayedAt (-1 = none), paused (0/1) }; jobs is an empty list, or a
-- JSON text of [[id, [values of fetchedFields, false when absent]], ...]. fetch and fetchAfterMove
-- return the jobs taken as a second value (a list of {id, values}), for fetchRecord.
-- Queue-wide limits in <q>:meta: `concurrency` caps the active jobs (nothing fetched, ttl 0, when
-- reached); `max` / `duration`, the global rate limit, replace the request's limiter.

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
    local g = req.tokens.g
    req.groupConcurrency, req.groupMax, req.groupDuration = g[1], g[2], g[3]
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

-- Grouped jobs (issue 22), taken when the queue's own lists ran short: groups in turn order, one job
-- per group per turn, a group served taking the last turn (a new score in <q>:gr:ready), so a
-- group's job waits behind at most one job of every other group. A paused group, one at its
-- concurrency or in a used-up rate window is passed over and keeps its turn; a group found empty
-- leaves <q>:gr:ready. The group's own settings (gr:cfg) win over the worker's. Appends to `jobs`
-- and `activeArgs`; returns when the earliest group passed over for its rate limit may run again.
local function takeGrouped(now, req, room, jobs, activeArgs, lockUntil)
  local readyKey = prefix .. 'gr:ready'
  local wakeAt = nil
  local cursor = '-inf'
  while #jobs < room do
    local turns = redis.call('ZRANGEBYSCORE', readyKey, cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, 16)
    if #turns == 0 then
      break
    end
    for k = 1, #turns, 2 do
      if #jobs >= room then
        break
      end
      local gid = turns[k]
      cursor = '(' .. turns[k + 1]
      local cfgKey = prefix .. 'gr:cfg:' .. gid
      local cfg = redis.call('HMGET', cfgKey, 'paused', 'concurrency', 'max', 'duration', 'window-end',
        'window-count', 'limited-until')
      local open = not cfg[1]
      local limitedUntil = tonumber(cfg[7]) or 0
      if open and limitedUntil > now then
        open = false
        wakeAt = math.min(wakeAt or limitedUntil, limitedUntil)
      end
      local concurrency = tonumber(cfg[2]) or req.groupConcurrency or 0
      if open and concurrency > 0 and redis.call('SCARD', prefix .. 'gr:a:' .. gid) >= concurrency then
        open = false
      end
      local max = tonumber(cfg[3]) or req.groupMax or 0
      local duration = tonumber(cfg[4]) or req.groupDuration or 0
      local windowEnd, windowCount = tonumber(cfg[5]) or 0, tonumber(cfg[6]) or 0
      if open and max > 0 then
        if windowEnd <= now then
          windowEnd, windowCount = now + duration, 0
        elseif windowCount >= max then
          open = false
          wakeAt = math.min(wakeAt or windowEnd, windowEnd)
        end
      end
      if open then
        local groupKey = prefix .. 'gr:w:' .. gid
        local popped = redis.call('ZPOPMIN', groupKey)
        if #popped == 0 then
          redis.call('ZREM', readyKey, gid)
        else
          local id = popped[1]
          local job = takeJob(id, req.tokens[#jobs + 1], now, req, lockUntil)
          if job then
            jobs[#jobs + 1] = job
            activeArgs[#activeArgs + 1] = lockUntil
            activeArgs[#activeArgs + 1] = id
            redis.call('SADD', prefix .. 'gr:a:' .. gid, id)
            if max > 0 then
              redis.call('HSET', cfgKey, 'window-end', int(windowEnd), 'window-count', windowCount + 1)
            end
          end
          if redis.call('EXISTS', groupKey) == 1 then
            redis.call('ZADD', readyKey, 'XX', redis.call('HINCRBY', metaKey, 'group-seq', 1), gid)
          else
            redis.call('ZREM', readyKey, gid)
          end
        end
      end
    end
  end
  return wakeAt
end

local function fetch(now, req)
  promoteDelayed(now)
  -- The queue's state in one read: paused, manual rate limit, global concurrency and rate limit.
  local meta = redis.call('HMGET', metaKey, 'paused', 'rate-limit-until', 'concurrency', 'max', 'duration')
  if meta[1] then
    return { {}, 0, nextDelayedAt(), 1 }
  end
  local limitedUntil = tonumber(meta[2]) or 0
  if limitedUntil > now then
    return { {}, limitedUntil - now, nextDelayedAt(), 0 }
  end
  local room = #req.tokens
  local concRoom = concurrencyRoom(meta[3])
  if concRoom then
    if concRoom <= 0 then
      return { {}, 0, nextDelayedAt(), 0 }
    end
    room = math.min(room, concRoom)
  end
  -- The global rate limit replaces the worker's limiter.
  local limMax, limDuration = req.limMax, req.limDuration
  if tonumber(meta[4]) and tonumber(meta[5]) then
    -- A max below 1 lets one job through per window, as in BullMQ.
    limMax, limDuration = math.max(1, tonumber(meta[4])), tonumber(meta[5])
  end
  local limStart, limCount
  if limMax > 0 then
    local limRoom, limTtl
    limRoom, limTtl, limStart, limCount = limiterWindow(now, limMax, limDuration)
    if limRoom == 0 then
      return { {}, limTtl, nextDelayedAt(), 0 }
    end
    room = math.min(room, limRoom)
  end
  -- Ids are popped, and added to <q>:active, many per call: one RPOP, ZPOPMIN and ZADD per fetch
  -- instead of one each per job (each call from Lua costs ~1 µs of Redis CPU beyond the command).
  local jobs = {}
  local lockUntil = int(lockClock() + req.lockDuration)
  local activeArgs = {}
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
  local groupWakeAt = nil
  if #jobs < room and hasGroupsIn(queueName) then
    groupWakeAt = takeGrouped(now, req, room, jobs, activeArgs, lockUntil)
  end
  if #activeArgs > 0 then
    redis.call('ZADD', activeKey, unpack(activeArgs))
  end
  local limiterFull = false
  if limMax > 0 and #jobs > 0 then
    limCount = limCount + #jobs
    limiterFull = limCount >= limMax
    redis.call('HSET', metaKey, 'limiter-start', int(limStart), 'limiter-count', limCount,
      'limiter-max', limMax, 'limiter-duration', limDuration)
  end
  -- Global concurrency used up: another worker could take nothing either.
  if concRoom and #jobs >= concRoom then
    limiterFull = true
  end
  -- More work for another blocked worker (unless the window is used up: it would only learn the ttl).
  if not limiterFull and (redis.call('LLEN', waitKey) > 0 or redis.call('ZCARD', prioritizedKey) > 0
      or (#jobs > 0 and groupWakeAt == nil and redis.call('EXISTS', prefix .. 'gr:ready') == 1)) then
    redis.call('ZADD', markerKey, 0, '0')
  end
  if #jobs == 0 then
    local due = nextDelayedAt()
    -- A group in a used-up rate window: look again when it ends.
    if groupWakeAt and (due < 0 or groupWakeAt < due) then
      due = groupWakeAt
    end
    return { {}, 0, due, 0 }
  end
  -- Jobs go back as one JSON text: the client parses it natively, far cheaper than decoding ~20
  -- bulk strings per job. A worker that got jobs does not wait, so it needs no next due time.
  return { cjson.encode(jobs), 0, -1, 0 }, jobs
end

-- A fetch's answer as kept for a resent call (includes/calls.lua): the jobs it took as {id, token}
-- pairs, not their data (which may be large), and the rest of the answer as it was.
local function fetchRecord(result, jobs)
  local taken = {}
  for i, job in ipairs(jobs or {}) do
    taken[i] = { job[1], job[2][18] }
  end
  return { taken, result[2], result[3], result[4] }
end

-- The answer again, from a fetchRecord: each job it took that its token still holds, read as it is
-- now (the same values the first answer had, unless the job was updated since). A job that moved
-- on meanwhile (stalled and taken by another worker, removed) is left out, never taken twice.
local function fetchReplay(record)
  local jobs = {}
  for _, pair in ipairs(record[1]) do
    local f = redis.call('HMGET', prefix .. pair[1], unpack(fetchedFields))
    if f[18] == pair[2] then
      jobs[#jobs + 1] = { pair[1], f }
    end
  end
  if #jobs == 0 then
    return { {}, record[2], record[3], record[4] }
  end
  return { cjson.encode(jobs), record[2], record[3], record[4] }
end

-- The `next` part of complete/fail: fetch when asked, and say `drained` when nothing is left.
-- Returns the fetch's answer (0 when none was asked) and the jobs it took.
-- `codes`: the move's result per item; a refused item's slot gets no job (its owner lost the lock).
-- As BullMQ's moveToFinished: `drained` once the last job finished, with nothing waiting or active
-- (a queue with jobs still running drains when the last of them finishes), asked to fetch or not.
local function fetchAfterMove(now, req, codes)
  local result, jobs = 0, nil
  local moved = false
  for _, code in ipairs(codes or {}) do
    if code == 0 then
      moved = true
    elseif req then
      table.remove(req.tokens)
    end
  end
  if req then
    result, jobs = fetch(now, req)
    if #result[1] > 0 then
      return result, jobs
    end
  end
  -- Only after a job did finish: a refused move (say, of a job an obliterate removed) writes nothing.
  -- Grouped jobs still waiting (in a ready group) keep the queue from draining, as on SQLite.
  if moved and waitingCount() == 0 and redis.call('ZCARD', activeKey) == 0
      and not (hasGroupsIn(queueName) and redis.call('EXISTS', prefix .. 'gr:ready') == 1) then
    emit('drained')
  end
  return result, jobs
end

-- complete's and fail's answer {codes, next}, as kept for a resent call, and as given again.
local function moveRecord(codes, fetched, jobs)
  if fetched == 0 then
    return { codes, 0 }
  end
  return { codes, fetchRecord(fetched, jobs) }
end

local function moveReplay(record)
  if record[2] == 0 then
    return { record[1], 0 }
  end
  return { record[1], fetchReplay(record[2]) }
end

-- The end of complete and fail: the fetch asked for from ARGV[fetchAt] (or a wake-up of other workers
-- when none was), the answer kept for a resent call once an item moved, and {codes, next}.
local function finishMoves(now, codes, callId, fetchAt)
  local req = readFetch(fetchAt)
  -- A fetch that follows signals other workers itself when work is left.
  if not req then
    signalIfFreed()
  end
  local fetched, taken = fetchAfterMove(now, req, codes)
  for _, code in ipairs(codes) do
    if code == 0 then
      keepAnswer(callId, moveRecord(codes, fetched, taken))
      break
    end
  end
  return { codes, fetched }
end
