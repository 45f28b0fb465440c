-- getState: where a job is.
-- KEYS[1] <q>:  (job hashes <q>:<id>, logs <q>:<id>:logs)   KEYS[2] <q>:wait        KEYS[3] <q>:prioritized
-- KEYS[4] <q>:delayed    KEYS[5] <q>:active    KEYS[6] <q>:completed    KEYS[7] <q>:failed    KEYS[8] <q>:meta
-- KEYS[9] <q>:events     KEYS[10] <q>:marker   KEYS[11] <q>:id          KEYS[12] <q>:waiting-children
-- (every script gets the same twelve keys; includes/base.lua describes each one)
-- ARGV[1] id
-- Returns: waiting | prioritized | active | delayed | waiting-children | completed | failed | unknown
-- @include base
-- @include state
return jobState(ARGV[1])
