-- updateGroup: changes a group's record, creating it when missing (BullMQ Pro's pauseGroup,
-- resumeGroup, setGroupConcurrency, setGroupRateLimit, rateLimitGroup).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] group id
-- ARGV[2] the change as JSON: {paused?, concurrency?, limit?: {max, duration}, limitedUntil?};
--         concurrency or limit null removes the group's own value (the workers' applies again)
-- Returns: 1, or 0 when `paused` changes nothing (pausing a paused group, resuming one that is not
--          paused or has no record). A change that may let jobs start wakes a blocked worker.
-- @include base
local gid = ARGV[1]
local change = cjson.decode(ARGV[2])
local cfgKey = prefix .. 'gr:cfg:' .. gid
local paused = redis.call('HEXISTS', cfgKey, 'paused') == 1
if change.paused == true and paused then
  return 0
end
if change.paused == false and not paused then
  return 0
end
-- The group is known from now on (getGroups lists it; a paused group may have no job yet).
markGroupsIn(queueName)
redis.call('ZADD', prefix .. 'gr:all', 'NX', redis.call('HINCRBY', metaKey, 'group-seq', 1), gid)
if change.paused == true then
  redis.call('HSET', cfgKey, 'paused', '1')
elseif change.paused == false then
  redis.call('HDEL', cfgKey, 'paused')
end
if change.concurrency == cjson.null then
  redis.call('HDEL', cfgKey, 'concurrency')
elseif change.concurrency ~= nil then
  redis.call('HSET', cfgKey, 'concurrency', int(change.concurrency))
end
if change.limit == cjson.null then
  redis.call('HDEL', cfgKey, 'max', 'duration')
elseif change.limit ~= nil then
  redis.call('HSET', cfgKey, 'max', int(math.max(1, change.limit.max)), 'duration', int(change.limit.duration))
end
if change.limitedUntil ~= nil then
  redis.call('HSET', cfgKey, 'limited-until', int(change.limitedUntil))
end
signal()
return 1
