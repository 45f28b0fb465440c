-- Inserting and removing jobs of any queue `q` (needs base): addJobs, addFlow, schedulers, dedup.
-- A job to insert comes as 9 values from index b of `src` (ARGV unless given; see readJob):
--   id ('' = auto id), name, data (JSON), opts (JSON), timestamp, delay (ms), priority (0 = none),
--   lifo ('1'/'0'), parent (JSON {id, queue, policy?}, '' = none)

local function readJob(b, src)
  src = src or ARGV
  return {
    id = src[b], name = src[b + 1], data = src[b + 2], opts = src[b + 3], timestamp = src[b + 4],
    delay = src[b + 5], priority = src[b + 6], lifo = src[b + 7], parent = src[b + 8],
  }
end

-- A job's `group` option (BullMQ Pro's `{ id, priority?, maxSize? }`) from its opts JSON text, or nil;
-- the text is decoded only when it names a group.
local function groupOptsOf(opts)
  if not opts or not string.find(opts, '"group"', 1, true) then
    return nil
  end
  local ok, decoded = pcall(cjson.decode, opts)
  if not ok or type(decoded) ~= 'table' or type(decoded.group) ~= 'table' then
    return nil
  end
  local id = decoded.group.id
  if id == nil or id == cjson.null then
    return nil
  end
  if type(id) == 'number' then
    id = int(id)
  end
  return { id = tostring(id), maxSize = tonumber(decoded.group.maxSize) }
end

-- The job's state in queue `q` from the lists that hold it; 'unknown' when in none.
local function jobStateIn(q, id)
  if redis.call('ZSCORE', q .. ':active', id) then
    return 'active'
  elseif redis.call('ZSCORE', q .. ':completed', id) then
    return 'completed'
  elseif redis.call('ZSCORE', q .. ':failed', id) then
    return 'failed'
  elseif redis.call('ZSCORE', q .. ':delayed', id) then
    return 'delayed'
  elseif redis.call('ZSCORE', q .. ':prioritized', id) then
    return 'prioritized'
  elseif redis.call('ZSCORE', q .. ':waiting-children', id) then
    return 'waiting-children'
  elseif redis.call('LPOS', q .. ':wait', id) then
    return 'waiting'
  end
  local gid = groupOfIn(q, id)
  if gid and redis.call('ZSCORE', q .. ':gr:w:' .. gid, id) then
    return 'waiting'
  end
  return 'unknown'
end

-- Pushes the ids insertJobIn collected in `backlog` onto the back of their queues' wait lists
-- (LPUSH of a, b, c = LPUSH a, then b, then c), a thousand per call to stay within Lua's stack.
local function pushBacklog(backlog)
  for q, ids in pairs(backlog) do
    for first = 1, #ids, 1000 do
      redis.call('LPUSH', q .. ':wait', unpack(ids, first, math.min(first + 999, #ids)))
    end
  end
end

-- Writes job `id` of queue `q` (a readJob table) and places it: waiting-children when
-- `hasChildren`, else delayed or waiting. Events added and waiting / delayed / waiting-children.
-- Returns true when the job is runnable (the caller signals the queue once).
-- `backlog` (optional, see pushBacklog): collects per queue the ids bound for the back of the wait
-- list, so that a batch of adds pushes them with one LPUSH, in the same order, instead of one each.
local function insertJobIn(q, id, job, hasChildren, backlog)
  local jobKey = q .. ':' .. id
  local timestamp = tonumber(job.timestamp)
  local delay = tonumber(job.delay)
  local priority = tonumber(job.priority)
  local lifo = job.lifo == '1'
  -- Zero counters, delay, priority and progress are left out: readers take an absent one as 0
  -- (codec.ts, `or 0` here), and a shorter HSET is cheaper to write and to keep.
  local fields = { 'name', job.name, 'data', job.data, 'opts', job.opts, 'timestamp', int(timestamp) }
  if delay ~= 0 then
    fields[#fields + 1], fields[#fields + 2] = 'delay', int(delay)
  end
  if priority ~= 0 then
    fields[#fields + 1], fields[#fields + 2] = 'priority', int(priority)
  end
  if lifo then
    fields[#fields + 1], fields[#fields + 2] = 'lifo', '1'
  end
  local hasParent = job.parent ~= nil and job.parent ~= ''
  if hasParent then
    fields[#fields + 1], fields[#fields + 2] = 'parent', job.parent
  end
  local group = groupOptsOf(job.opts)
  if group then
    fields[#fields + 1], fields[#fields + 2] = 'grp', group.id
    markGroupsIn(q)
  end
  redis.call('HSET', jobKey, unpack(fields))
  if hasParent then
    local link = cjson.decode(job.parent)
    redis.call('SADD', link.queue .. ':' .. link.id .. ':dependencies', jobKey)
  end
  emitIn(q, 'added', 'jobId', id, 'name', job.name)
  if hasChildren then
    redis.call('ZADD', q .. ':waiting-children', int(timestamp), id)
    emitIn(q, 'waiting-children', 'jobId', id)
    return false
  elseif delay > 0 then
    local due = timestamp + delay
    addToDelayedIn(q, id, due)
    emitIn(q, 'delayed', 'jobId', id, 'delay', int(due))
  elseif backlog and priority == 0 and not lifo and not group then
    local ids = backlog[q]
    if not ids then
      ids = {}
      backlog[q] = ids
    end
    ids[#ids + 1] = id
    emitIn(q, 'waiting', 'jobId', id)
  else
    addToWaitingIn(q, id, priority, lifo)
    emitIn(q, 'waiting', 'jobId', id)
  end
  return true
end

-- Deletes a job's hash, logs and dependency keys.
local function deleteJobIn(q, id)
  local jobKey = q .. ':' .. id
  redis.call('DEL', jobKey, jobKey .. ':logs', jobKey .. ':dependencies', jobKey .. ':processed',
    jobKey .. ':failed', jobKey .. ':ignored')
end

-- The deduplication id in a job's opts (JSON text, or nil), or nil.
local function dedupIdOf(opts)
  if not opts or not string.find(opts, '"deduplication"', 1, true) then
    return nil
  end
  local ok, decoded = pcall(cjson.decode, opts)
  if not ok or type(decoded) ~= 'table' or type(decoded.deduplication) ~= 'table' then
    return nil
  end
  local dedupId = decoded.deduplication.id
  if dedupId == nil or dedupId == cjson.null then
    return nil
  end
  return tostring(dedupId)
end

-- A job being removed (remove, clean, drain) gives up its deduplication id, with the job kept aside
-- for it, when the id still points at it (as BullMQ's removals do; retention does not call this).
local function releaseDedupIn(q, id)
  local dedupId = dedupIdOf(redis.call('HGET', q .. ':' .. id, 'opts'))
  if dedupId then
    local key = q .. ':de:' .. dedupId
    if redis.call('GET', key) == id then
      redis.call('DEL', key, key .. ':next')
    end
  end
end

-- Removes job `id` of queue `q` from every list and deletes it (as remove does), releasing its
-- deduplication id. Event removed.
local function removeJobIn(q, id)
  local prev = jobStateIn(q, id)
  releaseDedupIn(q, id)
  groupUnwaitIn(q, id)
  groupLeftIn(q, id)
  redis.call('LREM', q .. ':wait', 0, id)
  for _, suffix in ipairs({ ':prioritized', ':delayed', ':active', ':completed', ':failed', ':waiting-children' }) do
    redis.call('ZREM', q .. suffix, id)
  end
  deleteJobIn(q, id)
  emitIn(q, 'removed', 'jobId', id, 'prev', prev)
  return prev
end
