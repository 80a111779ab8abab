-- due-deadlines: ids in the deadline index whose deadline has passed on the Redis clock, oldest
-- first (the hosts that ask may have clocks that are off).
-- KEYS[1] the deadline sorted set, ARGV[1] most ids to return. Returns a list of job ids.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
