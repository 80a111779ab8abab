#!lua flags=no-writes
-- read: the record hash, the text and the current attempt's events, read together. Flagged
-- no-writes, so it runs while Redis refuses writes (OOM under noeviction; a MULTI would be refused
-- then) and on a replica.
-- KEYS[1] record hash, KEYS[2] text string, KEYS[3] event log. Returns {flat field/value list, text
-- or false, the log entries from the record's attempt_seq on (the whole log for a record from before
-- attempt_seq: the fold starts over at each `reset` anyway)}.
local from = redis.call('HGET', KEYS[1], 'attempt_seq') or '1'
local events = redis.call('XRANGE', KEYS[3], from .. '-0', '+')
return {redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2]), events}
