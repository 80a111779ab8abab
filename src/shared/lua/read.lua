#!lua flags=no-writes
-- read: the record hash and the text, read together. Flagged no-writes, so it runs while Redis
-- refuses writes (OOM under noeviction; a MULTI would be refused then) and on a replica.
-- KEYS[1] record hash, KEYS[2] text string. Returns {flat field/value list, text or false}.
return {redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2])}
