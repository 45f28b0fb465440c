-- Deduplication (needs base, jobs). Key <q>:de:<dedupId> = the job id owning the dedup id (PX ttl
-- when the owner was added with `ttl`); <q>:de:<dedupId>:next = a job kept aside (keepLastIfActive)
-- as JSON of a readJob table plus `dedup`, added when the owner finishes.

-- Applies `dedup` ({id, ttl?, extend?, replace?, keepLastIfActive?}) before inserting `job` (a
-- readJob table) into queue `q`. Returns the existing job id when the add is refused, or nil when
-- the job is to be inserted (then claimDedup points the id at it).
local function dedupBeforeAdd(q, dedup, job)
  local key = q .. ':de:' .. dedup.id
  local existing = redis.call('GET', key)
  if not existing then
    return nil
  end
  local state = jobStateIn(q, existing)
  if redis.call('PTTL', key) < 0 then
    -- Without ttl the id is held while its job exists and is not finished.
    if state == 'completed' or state == 'failed' or redis.call('EXISTS', q .. ':' .. existing) == 0 then
      return nil
    end
  end
  if dedup.replace and state == 'delayed' then
    removeJobIn(q, existing)
    return nil
  end
  if dedup.keepLastIfActive and state == 'active' then
    local kept = {}
    for field, value in pairs(job) do
      kept[field] = value
    end
    kept.dedup = dedup
    redis.call('SET', key .. ':next', cjson.encode(kept))
  elseif dedup.extend and tonumber(dedup.ttl) and tonumber(dedup.ttl) > 0 then
    redis.call('PEXPIRE', key, int(tonumber(dedup.ttl)))
  end
  emitIn(q, 'deduplicated', 'jobId', existing, 'deduplicationId', dedup.id, 'deduplicatedJobId', job.id)
  return existing
end

-- Points dedup id `dedup.id` of queue `q` at job `id` (PX ttl when `dedup.ttl`).
local function claimDedup(q, dedup, id)
  local key = q .. ':de:' .. dedup.id
  local ttl = tonumber(dedup.ttl)
  if ttl and ttl > 0 then
    redis.call('SET', key, id, 'PX', int(ttl))
  else
    redis.call('SET', key, id)
  end
  redis.call('DEL', key .. ':next')
end

-- The dedup options of a NewJob as sent by the store (JSON, '' = none).
local function readDedup(raw)
  if raw == nil or raw == '' then
    return nil
  end
  local dedup = cjson.decode(raw)
  dedup.id = tostring(dedup.id)
  return dedup
end

-- Job `id` of queue `q` finished for good: free its dedup id (no ttl) or hand it to the job kept aside.
-- `opts`: the job's opts field when the caller already read it, nil to read it here.
local function dedupAfterFinish(q, id, jobKey, opts)
  if opts == nil then
    opts = redis.call('HGET', jobKey, 'opts')
  end
  if not opts or not string.find(opts, '"deduplication"', 1, true) then
    return
  end
  local ok, decoded = pcall(cjson.decode, opts)
  if not ok or type(decoded) ~= 'table' or type(decoded.deduplication) ~= 'table' then
    return
  end
  local dedupId = decoded.deduplication.id
  if dedupId == nil or dedupId == cjson.null then
    return
  end
  local key = q .. ':de:' .. tostring(dedupId)
  if redis.call('GET', key) ~= id then
    return
  end
  local kept = redis.call('GET', key .. ':next')
  if kept then
    local job = cjson.decode(kept)
    local nextId = job.id
    if nextId == nil or nextId == '' then
      nextId = int(redis.call('INCR', q .. ':id'))
    end
    if redis.call('EXISTS', q .. ':' .. nextId) == 0 then
      if insertJobIn(q, nextId, job, false) then
        signalIn(q)
      end
    end
    claimDedup(q, job.dedup, nextId)
  elseif redis.call('PTTL', key) == -1 then
    redis.call('DEL', key)
  end
end
