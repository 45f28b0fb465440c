-- pause: pauses or resumes the queue (jobs stay where they are; fetchNext hands out none while paused).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] '1' pause, '0' resume
-- Returns: 0.  Events: paused {} or resumed {}. Resuming signals the marker; pausing clears it.
-- @include base
if ARGV[1] == '1' then
  redis.call('HSET', metaKey, 'paused', '1')
  redis.call('DEL', markerKey)
  emit('paused')
else
  redis.call('HDEL', metaKey, 'paused')
  emit('resumed')
  signal()
end
return 0
