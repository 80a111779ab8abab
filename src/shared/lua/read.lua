#!lua flags=no-writes
-- read: the record hash, the text and the current attempt's events, read together. Flagged
-- no-writes, so it runs while Redis refuses writes (OOM under noeviction; a MULTI would be refused
-- then) and on a replica.
-- KEYS[1] record hash, KEYS[2] text string, KEYS[3] event log. Returns {flat field/value list, text
-- or false, the log entries from the record's attempt_seq on (none before the first start)}.
local from = redis.call('HGET', KEYS[1], 'attempt_seq')
local events = {}
if from then events = redis.call('XRANGE', KEYS[3], from .. '-0', '+') end
return {redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2]), events}
