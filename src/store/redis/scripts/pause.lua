-- pause: pauses or resumes the queue (jobs stay where they are; fetchNext hands out none while paused).
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
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
