-- getState: where a job is.
-- KEYS[1] <q>: (the queue's prefix; includes/base.lua builds every key from it)
-- ARGV[1] id
-- Returns: waiting | prioritized | active | delayed | waiting-children | completed | failed | unknown
-- @include base
-- @include state
return jobState(ARGV[1])
