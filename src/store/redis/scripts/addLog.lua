-- addLog: appends a row to a job's log, keeping the newest keepLogs rows when asked.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] row   ARGV[3] keepLogs ('' or <= 0 = keep all)
-- Returns: the number of rows now kept; -1 when the job does not exist (nothing written).
local jobKey = KEYS[1] .. ARGV[1]
if redis.call('EXISTS', jobKey) == 0 then
  return -1
end
local logsKey = jobKey .. ':logs'
local count = redis.call('RPUSH', logsKey, ARGV[2])
local keep = tonumber(ARGV[3])
if keep and keep > 0 and count > keep then
  redis.call('LTRIM', logsKey, -keep, -1)
  count = keep
end
return count
