-- Calls that must not run twice (needs base). ioredis sends a call again, on its new connection,
-- when the connection dropped before the reply came (autoResendUnfulfilledCommands, on by
-- default), and the first one may have run: an add would add again, a completion would find its
-- job finished and answer "Missing lock". Such a call carries a call id (a uuid made per call by
-- the client). The answer of a call that changed something is kept under <q>:call:<call id> for a
-- minute, and the same call coming again gets that answer instead of running again. A minute
-- covers ioredis's reconnection (50 ms to 2 s between attempts); a call resent after a longer
-- outage runs again, as it did before.
local callAnswerMs = 60000

-- The answer kept for call `callId`, or nil when it did not run (or changed nothing) yet.
local function answeredCall(callId)
  local kept = redis.call('GET', prefix .. 'call:' .. callId)
  if kept then
    return cjson.decode(kept)
  end
  return nil
end

local function keepAnswer(callId, answer)
  redis.call('SET', prefix .. 'call:' .. callId, cjson.encode(answer), 'PX', callAnswerMs)
end
