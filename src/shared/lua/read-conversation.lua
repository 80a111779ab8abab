#!lua flags=no-writes
-- read-conversation: a conversation's hash, history and turns, read together (no-writes, as read.lua).
-- KEYS[1] hash, KEYS[2] history list, KEYS[3] turns list. Returns {flat field/value list, history,
-- turns}; an empty hash for an unknown or expired conversation.
return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1), redis.call('LRANGE', KEYS[3], 0, -1)}
