-- Per-minute metrics of finished jobs (needs base). <q>:metrics:<type> HASH {count, maxDataPoints,
-- lastMinute, firstMinute}; <q>:metrics:<type>:data HASH minute (floor(ms / 60000)) -> count.
-- BullMQ's points are the minutes before the newest, so maxDataPoints of them plus the newest are kept.
local function recordMetric(kind, now, maxPoints)
  local key = prefix .. 'metrics:' .. kind
  local dataKey = key .. ':data'
  local minute = math.floor(now / 60000)
  redis.call('HINCRBY', key, 'count', 1)
  redis.call('HSETNX', key, 'firstMinute', int(minute))
  redis.call('HINCRBY', dataKey, int(minute), 1)
  local last = tonumber(redis.call('HGET', key, 'lastMinute'))
  local points = tonumber(redis.call('HGET', key, 'maxDataPoints'))
  if last ~= minute or points ~= maxPoints then
    redis.call('HSET', key, 'lastMinute', int(minute), 'maxDataPoints', maxPoints)
    for _, field in ipairs(redis.call('HKEYS', dataKey)) do
      if tonumber(field) < minute - maxPoints then
        redis.call('HDEL', dataKey, field)
      end
    end
  end
end
