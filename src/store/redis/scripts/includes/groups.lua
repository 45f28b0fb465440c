-- The grouped takes of the fetch step (includes/fetch.lua; needs base and take): BullMQ Pro's groups
-- (issue 22) and a worker's batches (issue 23).

-- Whether group `gid` may start jobs now. Returns how many (math.huge: no limit; nil: none, as it is
-- paused, at its concurrency or in a used-up rate window), when a rate limit holding it ends (or
-- nil), and its rate limit `max` (0 = none) with its current window (end, starts so far). The group's
-- own settings (gr:cfg) win over the worker's.
local function groupRoom(now, req, gid)
  local cfg = redis.call('HMGET', prefix .. 'gr:cfg:' .. gid, 'paused', 'concurrency', 'max', 'duration',
    'window-end', 'window-count', 'limited-until')
  if cfg[1] then
    return nil
  end
  local limitedUntil = tonumber(cfg[7]) or 0
  if limitedUntil > now then
    return nil, limitedUntil
  end
  local room = math.huge
  local concurrency = tonumber(cfg[2]) or req.groupConcurrency or 0
  if concurrency > 0 then
    room = concurrency - redis.call('SCARD', prefix .. 'gr:a:' .. gid)
    if room <= 0 then
      return nil
    end
  end
  local max = tonumber(cfg[3]) or req.groupMax or 0
  local duration = tonumber(cfg[4]) or req.groupDuration or 0
  local windowEnd, windowCount = tonumber(cfg[5]) or 0, tonumber(cfg[6]) or 0
  if max > 0 then
    if windowEnd <= now then
      windowEnd, windowCount = now + duration, 0
    elseif windowCount >= max then
      return nil, windowEnd
    end
    room = math.min(room, max - windowCount)
  end
  return room, nil, max, windowEnd, windowCount
end

-- Moves up to `count` of group `gid`'s waiting jobs to active (in the group's order), counts them in
-- its rate window, and gives the group the last turn (a new score in <q>:gr:ready), or takes it out
-- of the turns when it has no waiting job left. Appends to `jobs` and `activeArgs`.
local function takeFromGroup(now, req, gid, count, room, jobs, activeArgs, lockUntil)
  local readyKey = prefix .. 'gr:ready'
  local groupKey = prefix .. 'gr:w:' .. gid
  local popped = redis.call('ZPOPMIN', groupKey, count)
  local taken = 0
  for k = 1, #popped, 2 do
    local id = popped[k]
    local job = takeJob(id, req.tokens[#jobs + 1], now, req, lockUntil)
    if job then
      jobs[#jobs + 1] = job
      activeArgs[#activeArgs + 1] = lockUntil
      activeArgs[#activeArgs + 1] = id
      redis.call('SADD', prefix .. 'gr:a:' .. gid, id)
      taken = taken + 1
    end
  end
  if room.max > 0 and taken > 0 then
    redis.call('HSET', prefix .. 'gr:cfg:' .. gid, 'window-end', int(room.windowEnd), 'window-count',
      room.windowCount + taken)
  end
  if redis.call('EXISTS', groupKey) == 1 then
    redis.call('ZADD', readyKey, 'XX', redis.call('HINCRBY', metaKey, 'group-seq', 1), gid)
  else
    redis.call('ZREM', readyKey, gid)
  end
end

-- Goes round the ready groups in turn order (16 read at a time), calling visit(gid, n, room) for
-- each group that may start `n` jobs now, until visit returns true or the turns run out. A group
-- served takes a new, last turn, so it is met again later in the same round. Returns when the
-- earliest group passed over for its rate limit may run again.
local function eachOpenGroup(now, req, visit)
  local readyKey = prefix .. 'gr:ready'
  local wakeAt = nil
  local cursor = '-inf'
  while true do
    local turns = redis.call('ZRANGEBYSCORE', readyKey, cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, 16)
    if #turns == 0 then
      return wakeAt
    end
    for k = 1, #turns, 2 do
      local gid = turns[k]
      cursor = '(' .. turns[k + 1]
      local n, limitedUntil, max, windowEnd, windowCount = groupRoom(now, req, gid)
      if limitedUntil then
        wakeAt = math.min(wakeAt or limitedUntil, limitedUntil)
      end
      if n and visit(gid, n, { max = max, windowEnd = windowEnd, windowCount = windowCount }) then
        return wakeAt
      end
    end
  end
end

-- Grouped jobs (issue 22), taken when the queue's own lists ran short: groups in turn order, one job
-- per group per turn, so a group's job waits behind at most one job of every other group. A paused
-- group, one at its concurrency or in a used-up rate window is passed over and keeps its turn; a
-- group found empty leaves <q>:gr:ready. Appends to `jobs` and `activeArgs`; returns when the
-- earliest group passed over for its rate limit may run again.
local function takeGrouped(now, req, room, jobs, activeArgs, lockUntil)
  if #jobs >= room then
    return nil
  end
  return eachOpenGroup(now, req, function(gid, _, groupRoomInfo)
    takeFromGroup(now, req, gid, 1, groupRoomInfo, jobs, activeArgs, lockUntil)
    return #jobs >= room
  end)
end

-- A batch of one group (issue 23, groupAffinity): the first group in turn order that may start a
-- job gives as many as it may start, up to `room` (a short batch, never another group's jobs). With
-- `min` (minSize), nothing is taken unless that group has at least `min` jobs waiting: BullMQ Pro
-- waits for the next group in turn, it does not pass it over.
local function takeOneGroup(now, req, room, min, jobs, activeArgs, lockUntil)
  return eachOpenGroup(now, req, function(gid, n, groupRoomInfo)
    local waiting = redis.call('ZCARD', prefix .. 'gr:w:' .. gid)
    if waiting == 0 then
      redis.call('ZREM', prefix .. 'gr:ready', gid)
      return false
    end
    if waiting >= min then
      takeFromGroup(now, req, gid, math.min(room, n), groupRoomInfo, jobs, activeArgs, lockUntil)
    end
    return true
  end)
end

-- A worker's batch (issue 23, BullMQ Pro's worker option `batch`), up to `room` jobs. `minJobs`
-- (minSize): nothing is taken unless that many can be. With `affinity` (groupAffinity) the batch
-- holds one source's jobs: the queue's own waiting jobs while there are any (never passed over),
-- else one group's (takeOneGroup). Without it the batch fills as any fetch does (own jobs, then
-- grouped ones round-robin), and minSize counts only while no group has jobs ready (BullMQ Pro
-- ignores it with groups). Returns when a group passed over for its rate limit may run again.
local function takeBatch(now, req, room, jobs, activeArgs, lockUntil)
  local min = math.min(math.max(1, req.batch.minJobs or 1), room)
  local own = redis.call('LLEN', waitKey) + redis.call('ZCARD', prioritizedKey)
  local grouped = hasGroupsIn(queueName) and redis.call('EXISTS', prefix .. 'gr:ready') == 1
  if req.batch.affinity then
    if own > 0 then
      if own >= min then
        takeOwn(now, req, room, jobs, activeArgs, lockUntil)
      end
      return nil
    end
    if grouped then
      return takeOneGroup(now, req, room, min, jobs, activeArgs, lockUntil)
    end
    return nil
  end
  if own < min and not grouped then
    return nil
  end
  takeOwn(now, req, room, jobs, activeArgs, lockUntil)
  if grouped then
    return takeGrouped(now, req, room, jobs, activeArgs, lockUntil)
  end
  return nil
end
