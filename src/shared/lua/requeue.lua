-- requeue: this attempt ends without ending the job; the job waits for its next attempt.
-- ARGV[1] fence, ARGV[2] op, ARGV[3] the failure, kept as the reason of the next `reset`, ARGV[4] '1'
-- for a hand-back (the worker shut down): the next start does not count it as a used attempt.
-- Returns the sequence number of the `status queued` event, or -1 / -2 / -3 as append.lua.
local id = write_id(ARGV[1], ARGV[2])
local st = redis.call('HMGET', rec, 'status', 'fence', 'op', 'op_ret', 'attempt')
if not st[1] then return -1 end
if st[3] == id then return tonumber(st[4]) end
if is_terminal(st[1]) then return -2 end
if st[2] ~= ARGV[1] or st[1] ~= 'running' then return -3 end
redis.call('HSET', rec, 'status', 'queued', 'last_error', ARGV[3])
if ARGV[4] == '1' then redis.call('HSET', rec, 'handed_back', 1) end
local seq = append('status', '{"status":"queued","attempt":' .. st[5] .. '}')
redis.call('HSET', rec, 'op', id, 'op_ret', seq)
return seq
