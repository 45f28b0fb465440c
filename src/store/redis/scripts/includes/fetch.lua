-- The fetch step shared by fetchNext, complete and fail (needs base, take and groups). The request's
-- layout: includes/take.lua.
-- Result: { jobs, rateLimitTtl, nextDelayedAt (-1 = none), paused (0/1) }; jobs is an empty list, or a
-- JSON text of [[id, [values of fetchedFields, false when absent]], ...]. fetch and fetchAfterMove
-- return the jobs taken as a second value (a list of {id, values}), for fetchRecord.
-- Queue-wide limits in <q>:meta: `concurrency` caps the active jobs (nothing fetched, ttl 0, when
-- reached); `max` / `duration`, the global rate limit, replace the request's limiter.

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
  local jobs = {}
  local lockUntil = int(lockClock() + req.lockDuration)
  local activeArgs = {}
  local groupWakeAt = nil
  if req.batch then
    groupWakeAt = takeBatch(now, req, room, jobs, activeArgs, lockUntil)
  else
    takeOwn(now, req, room, jobs, activeArgs, lockUntil)
    if #jobs < room and hasGroupsIn(queueName) then
      groupWakeAt = takeGrouped(now, req, room, jobs, activeArgs, lockUntil)
    end
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
  -- (Not after a batch that took nothing for its minSize: its own worker would wake at once, and spin.)
  if not limiterFull and not (req.batch and #jobs == 0) and (redis.call('LLEN', waitKey) > 0 or redis.call('ZCARD', prioritizedKey) > 0
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
