-- A job's state from the lists that hold it (needs base). 'unknown' when it is in none.
local function jobState(id)
  if redis.call('ZSCORE', activeKey, id) then
    return 'active'
  elseif redis.call('ZSCORE', completedKey, id) then
    return 'completed'
  elseif redis.call('ZSCORE', failedKey, id) then
    return 'failed'
  elseif redis.call('ZSCORE', delayedKey, id) then
    return 'delayed'
  elseif redis.call('ZSCORE', prioritizedKey, id) then
    return 'prioritized'
  elseif redis.call('ZSCORE', waitingChildrenKey, id) then
    return 'waiting-children'
  elseif redis.call('LPOS', waitKey, id) then
    return 'waiting'
  end
  local gid = groupOfIn(queueName, id)
  if gid and redis.call('ZSCORE', prefix .. 'gr:w:' .. gid, id) then
    return 'waiting'
  end
  return 'unknown'
end
