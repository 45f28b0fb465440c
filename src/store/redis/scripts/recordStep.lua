-- recordStep: records a durable step's result in the active job held by a token (job.step), and
-- with a due time also parks the job in delayed in the same call (job.sleep).
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id   ARGV[2] token (always checked)   ARGV[3] step id   ARGV[4] result (JSON text)
-- ARGV[5] now (ms)   ARGV[6] due (ms; '' = stay active)
-- ARGV[7] call id: a resent call gets the first one's answer (includes/calls.lua)
-- Returns: 0 done; -1 no such job; -2 no lock (or a lapsed one); -6 lock held by another token.
-- The job hash's `steps` field holds a JSON object, step id -> result. Entries are appended as
-- text, not decoded and encoded again: cjson would round numbers to 14 digits. A step id recorded
-- twice appears twice, and the later entry wins when the object is parsed.
-- Events: with a due time, delayed {jobId, delay = due}; none otherwise.
-- @include base
-- @include calls
local kept = answeredCall(ARGV[7])
if kept then
  return kept
end
local id = ARGV[1]
local jobKey = prefix .. id
if ARGV[2] == '' then
  -- Always lock-checked: an empty token holds no lock (checkLock would skip the check).
  return redis.call('EXISTS', jobKey) == 1 and -2 or -1
end
local code = checkLock(id, jobKey, ARGV[2], tonumber(ARGV[5]))
if code ~= 0 then
  return code
end
local entry = cjson.encode(ARGV[3]) .. ':' .. ARGV[4]
local steps = redis.call('HGET', jobKey, 'steps')
if steps and steps ~= '' then
  steps = string.sub(steps, 1, -2) .. ',' .. entry .. '}'
else
  steps = '{' .. entry .. '}'
end
redis.call('HSET', jobKey, 'steps', steps)
if ARGV[6] ~= '' then
  local due = tonumber(ARGV[6])
  leaveActive(id, jobKey)
  redis.call('HSET', jobKey, 'delay', int(math.max(0, due - tonumber(ARGV[5]))))
  addToDelayed(id, due)
  emit('delayed', 'jobId', id, 'delay', int(due))
  signal()
end
keepAnswer(ARGV[7], 0)
return 0
