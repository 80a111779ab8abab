-- due-deadlines: ids in the deadline index whose deadline passed at least ARGV[2] ms ago on the
-- Redis clock, oldest first (the hosts that ask may have clocks that are off).
-- KEYS[1] the deadline sorted set, ARGV[1] most ids to return, ARGV[2] grace ms. Returns job ids.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[1]))
