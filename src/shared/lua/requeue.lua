-- requeue: this attempt failed in a way worth retrying; the job waits for its next attempt.
-- ARGV[1] attempt (the fence), ARGV[2] the failure, kept as the reason of the next `reset`.
-- Returns the sequence number of the `status queued` event, or -1 / -2 / -3 as append.lua.
local st = redis.call('HMGET', rec, 'status', 'attempt')
if not st[1] then return -1 end
if is_terminal(st[1]) then return -2 end
if st[2] ~= ARGV[1] or st[1] ~= 'running' then return -3 end
redis.call('HSET', rec, 'status', 'queued', 'last_error', ARGV[2])
return append('status', '{"status":"queued","attempt":' .. ARGV[1] .. '}')
