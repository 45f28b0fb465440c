-- addFlow: inserts a whole flow (parents and children, possibly in several queues), all in one step.
-- KEYS[1] <q>: (the prefix of the first node's queue; includes/base.lua builds every key from it). The
-- nodes' own queues come in ARGV: their keys are built from those names.
-- ARGV[1] n, the number of nodes (parents before their children); then 12 values per node, from
--   ARGV[2 + 12 * (i - 1)]: queue (qualified name), hasChildren ('1'/'0'), then the job as
--   includes/jobs.lua reads it: id, name, data (JSON), opts (JSON), timestamp, delay (ms),
--   priority (0 = none), lifo ('1'/'0'), parent (JSON {id, queue, policy?}, '' = none),
--   then dedup (JSON DedupOptions, '' = none; includes/dedup.lua)
-- Returns: per node {id, 0/1}: 1 when its id existed (nothing is written for it, event
--          `duplicated`; an existing job is linked to its parent node: includes/flows.lua
--          linkExisting) or it was deduplicated (the id is the existing job's, event `deduplicated`);
--          {-5, '<parentQueue>:<parentId>'} when a parent is neither a node nor an existing job,
--          {-7, '<parentKey>'} when an existing node has another parent that still exists:
--          nothing is stored.
-- A node with children starts in <q>:waiting-children (score = timestamp); the others are placed
-- as addJobs places them. A child's key joins its parent's dependencies (includes/flows.lua).
-- Events (in each node's queue): added {jobId, name}, then waiting-children {jobId}, delayed
-- {jobId, delay} or waiting {jobId}; duplicated {jobId}.
-- @include base
-- @include flows
-- @include jobs
-- @include dedup
local n = tonumber(ARGV[1])
local W = 12

-- Every parent must exist or be an earlier node before anything is written.
local nodeKeys = {}
for i = 0, n - 1 do
  local b = 2 + i * W
  local jobKey = ARGV[b] .. ':' .. ARGV[b + 2]
  if ARGV[b + 10] ~= '' then
    local parent = cjson.decode(ARGV[b + 10])
    local parentKey = parent.queue .. ':' .. parent.id
    -- A parent among the nodes needs no lookup; an existing child is linked to it (or refused).
    if redis.call('EXISTS', jobKey) == 1 then
      if parentConflict(ARGV[b], ARGV[b + 2], ARGV[b + 10]) then
        return { -7, parentKey }
      end
    elseif not nodeKeys[parentKey] and redis.call('EXISTS', parentKey) == 0 then
      return { -5, parentKey }
    end
  end
  nodeKeys[jobKey] = true
end

local out = {}
local released = {}
local runnable = {}
local stamped = {}
local backlog = {}
for i = 0, n - 1 do
  local b = 2 + i * W
  local q = ARGV[b]
  local job = readJob(b + 2)
  local id = job.id
  if not stamped[q] then
    -- ready() stamped the queue; stamp again in case it was obliterated since.
    redis.call('HSETNX', q .. ':meta', 'docket-version', docketVersion)
    stamped[q] = true
  end
  local dedup = readDedup(ARGV[b + 11])
  local existing = dedup and dedupBeforeAdd(q, dedup, job)
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 1
  elseif redis.call('EXISTS', q .. ':' .. id) == 1 then
    released[#released + 1] = linkExisting(q, id, job.parent)
    emitIn(q, 'duplicated', 'jobId', id)
    out[#out + 1] = id
    out[#out + 1] = 1
  else
    if insertJobIn(q, id, job, ARGV[b + 1] == '1', backlog) then
      runnable[q] = true
    end
    if dedup then
      claimDedup(q, dedup, id)
    end
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
pushBacklog(backlog)
-- Parents whose children all exist already move on once the whole add is in.
for _, parent in ipairs(released) do
  releaseParent(parent.queue, parent.id, tonumber(ARGV[8]), false)
  runnable[parent.queue] = true
end
-- A delayed add signals too, so blocked workers recompute when to wake.
for q in pairs(runnable) do
  signalIn(q)
end
return out
