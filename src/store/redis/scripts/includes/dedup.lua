-- Deduplication (needs base, jobs), as BullMQ's. Key <q>:de:<dedupId> = the job id owning the
-- dedup id: with PX ttl when the owner was added with `ttl` (the id is then held for ttl, finished
-- or not), else without expiry (held until the owner finishes or is removed). keepLastIfActive
-- ignores ttl: its key never expires while the owner is active. <q>:de:<dedupId>:next = a job kept
-- aside (keepLastIfActive) as JSON of a readJob table plus `dedup`, added when the owner finishes.

-- The job holding dedup key `key` of queue `q` and its state, or nil when the id is free.
local function dedupOwner(q, key)
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
  return existing, state
end

-- Applies `dedup` ({id, ttl?, extend?, replace?, keepLastIfActive?}) before inserting `job` (a
-- readJob table whose id is already assigned) into queue `q`. Returns the existing job id when
-- the add is refused; else nil, and then claimDedup points the id at the new job, with `ttlLeft`
-- as its second result when the key must keep the ttl it had (replace without extend).
-- Events: deduplicated {jobId: existing, deduplicationId, deduplicatedJobId: job.id}; for a
-- replaced delayed job: removed {jobId, prev: delayed} and deduplicated {jobId: job.id, ...,
-- deduplicatedJobId: the removed job}. A refused replace (the job is no longer delayed) emits none.
local function dedupBeforeAdd(q, dedup, job)
  local key = q .. ':de:' .. dedup.id
  local existing, state = dedupOwner(q, key)
  if not existing then
    return nil
  end
  local ttl = tonumber(dedup.ttl)
  if dedup.replace and state == 'delayed' then
    local left = redis.call('PTTL', key)
    removeJobIn(q, existing)
    emitIn(q, 'deduplicated', 'jobId', job.id, 'deduplicationId', dedup.id, 'deduplicatedJobId', existing)
    if ttl and ttl > 0 and not dedup.extend then
      return nil, left
    end
    return nil
  end
  if dedup.keepLastIfActive and state == 'active' then
    local kept = {}
    for field, value in pairs(job) do
      kept[field] = value
    end
    kept.dedup = dedup
    redis.call('SET', key .. ':next', cjson.encode(kept))
    -- Held until the active job finishes: a ttl running out meanwhile would let a job run beside it.
    redis.call('PERSIST', key)
  elseif dedup.replace then
    return existing
  elseif dedup.extend and ttl and ttl > 0 then
    if dedup.keepLastIfActive then
      redis.call('PERSIST', key)
    else
      redis.call('PEXPIRE', key, int(ttl))
    end
  end
  emitIn(q, 'deduplicated', 'jobId', existing, 'deduplicationId', dedup.id, 'deduplicatedJobId', job.id)
  return existing
end

-- Points dedup id `dedup.id` of queue `q` at job `id`: with the ttl (or `ttlLeft`, the ms a replaced
-- key had left; -1 = none) unless keepLastIfActive, which holds the id until the job finishes.
local function claimDedup(q, dedup, id, ttlLeft)
  local key = q .. ':de:' .. dedup.id
  local ttl = tonumber(ttlLeft) or tonumber(dedup.ttl)
  if ttl and ttl > 0 and not dedup.keepLastIfActive then
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
  local dedupId = dedupIdOf(opts)
  if not dedupId then
    return
  end
  local key = q .. ':de:' .. dedupId
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
