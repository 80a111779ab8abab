-- create: a new job record in status `queued`, and its first event.
-- ARGV[1] TTL in seconds for the record and log until the job starts, ARGV[2..] field/value pairs.
-- Returns created_at (ms) or 0 when a record with this id exists.
if redis.call('EXISTS', rec) == 1 then return 0 end
local now = now_ms()
redis.call('HSET', rec, 'status', 'queued', 'attempt', 0, 'seq', 0, 'created_at', now, unpack(ARGV, 2))
append('status', '{"status":"queued","attempt":0}')
redis.call('EXPIRE', rec, ARGV[1])
redis.call('EXPIRE', log, ARGV[1])
return now
