-- addJobs: inserts a batch of jobs, all in one step.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] the jobs as one JSON array (one argument rather than ten per job: cheaper for the client and
--   Redis), 10 values per job from index 1 + 10 * (i - 1):
--   id ('' = auto id from <q>:id), name, data (JSON), opts (JSON), timestamp, delay (ms),
--   priority (0 = none), lifo ('1'/'0'), parent (JSON {id, queue, policy?}, '' = none),
--   dedup (JSON DedupOptions, '' = none: see includes/dedup.lua)
-- ARGV[2] call id: a resent call gets the first one's answer instead of adding the jobs twice
--   (includes/calls.lua).
-- Returns: flat list {id1, duplicated1, id2, duplicated2, ...}; duplicated = 1 when the custom id
--          existed (the first job is kept, nothing is written, event `duplicated`) or the add was
--          deduplicated (the id is the existing job's, event `deduplicated`).
--          {-5, '<parentQueue>:<parentId>'} when a parent does not exist, {-7, '<parentKey>'} when an
--          existing job has another parent that still exists: nothing is stored.
-- A child's key '<q>:<id>' joins its parent's pending dependencies; an existing job named with a
-- parent is linked to it (includes/flows.lua linkExisting).
-- Events: added {jobId, name}, then waiting {jobId} or delayed {jobId, delay = due timestamp}.
-- @include base
-- @include flows
-- @include jobs
-- @include dedup
-- @include calls
local J = cjson.decode(ARGV[1])
local W = 10
local n = #J / W
local answered = answeredCall(ARGV[2])
if answered then
  return answered
end
-- Every parent must exist (or be a job added earlier in this batch) before anything is written.
local batchIds = {}
local autoIds = 0
for i = 0, n - 1 do
  local b = 1 + i * W
  local id = J[b]
  if J[b + 8] ~= '' then
    local parent = cjson.decode(J[b + 8])
    local parentKey = parent.queue .. ':' .. parent.id
    if id == '' or redis.call('EXISTS', prefix .. id) == 0 then
      if not batchIds[parentKey] and redis.call('EXISTS', parentKey) == 0 then
        return { -5, parentKey }
      end
    elseif parentConflict(queueName, id, J[b + 8]) then
      return { -7, parentKey }
    end
  end
  if id ~= '' then
    batchIds[prefix .. id] = true
  else
    autoIds = autoIds + 1
  end
end
-- A group's maxSize (BullMQ Pro): refused before anything is written, counting this batch's jobs too.
local groupAdds = {}
for i = 0, n - 1 do
  local group = groupOptsOf(J[1 + i * W + 3])
  if group then
    groupAdds[group.id] = (groupAdds[group.id] or redis.call('ZCARD', prefix .. 'gr:w:' .. group.id)) + 1
    if group.maxSize and groupAdds[group.id] > group.maxSize then
      return { -10, group.id, group.maxSize }
    end
  end
end
-- Auto ids for the whole batch in one step (a deduplicated job uses one up too, as in BullMQ).
local nextAutoId = 0
if autoIds > 0 then
  nextAutoId = redis.call('INCRBY', idKey, autoIds) - autoIds
end
-- ready() stamped the queue; stamp again in case it was obliterated since (as a BullMQ queue could not be).
-- The same read tells whether the queue is paused, for the signal below.
local meta = redis.call('HMGET', metaKey, 'docket-version', 'paused')
if not meta[1] then
  redis.call('HSET', metaKey, 'docket-version', docketVersion)
end
local out = {}
local added = false
local addedDelayed = false
local backlog = {}
local released = {}
for i = 0, n - 1 do
  local b = 1 + i * W
  local job = readJob(b, J)
  local dedup = readDedup(J[b + 9])
  -- As BullMQ: an auto id is taken before deduplication (a refused add uses one up, and the job it
  -- keeps aside keeps it), and an existing custom id wins over deduplication.
  if job.id == '' then
    nextAutoId = nextAutoId + 1
    job.id = int(nextAutoId)
  end
  local id = job.id
  if redis.call('EXISTS', prefix .. id) == 1 then
    released[#released + 1] = linkExisting(queueName, id, job.parent)
    emit('duplicated', 'jobId', id)
    out[#out + 1] = id
    out[#out + 1] = 1
  else
    local existing, ttlLeft
    if dedup then
      existing, ttlLeft = dedupBeforeAdd(queueName, dedup, job)
    end
    if existing then
      out[#out + 1] = existing
      out[#out + 1] = 1
    else
      insertJobIn(queueName, id, job, false, backlog)
      addedDelayed = addedDelayed or (tonumber(job.delay) or 0) > 0
      if dedup then
        claimDedup(queueName, dedup, id, ttlLeft)
      end
      added = true
      out[#out + 1] = id
      out[#out + 1] = 0
    end
  end
end
pushBacklog(backlog)
for _, parent in ipairs(released) do
  releaseParent(parent.queue, parent.id, tonumber(J[5]), false)
end
-- A delayed add signals too, so blocked workers recompute when to wake, also on a paused queue (whose
-- delayed jobs still come due and move to waiting, as in BullMQ); a runnable add on a paused queue does not.
if added and (addedDelayed or not meta[2]) then
  redis.call('ZADD', markerKey, 0, '0')
end
keepAnswer(ARGV[2], out)
return out
