-- append: the hot path. Events of one attempt, the output text, record fields, in one round trip.
-- ARGV[1] fence, ARGV[2] op (the write id is `fence:op`, see the replay guard), ARGV[3] text to
-- APPEND to the output ('' = none), ARGV[4] n events, ARGV[5 .. 4+2n] type/data pairs, then
-- field/value pairs to HSET on the record.
-- Returns the last sequence number (0 when no event was given; the first run's answer for a replay),
-- or -1 (job gone), -2 (job ended), -3 (a newer attempt owns it, or the attempt is no longer running).
local id = write_id(ARGV[1], ARGV[2])
local st = redis.call('HMGET', rec, 'status', 'fence', 'has_output', 'op', 'op_ret', 'first_token_at')
if not st[1] then return -1 end
if st[4] == id then return tonumber(st[5]) end
if is_terminal(st[1]) then return -2 end
if st[2] ~= ARGV[1] or st[1] ~= 'running' then return -3 end
local seq, fields = apply_batch(3, st[3], st[6])
if #ARGV >= fields then
  redis.call('HSET', rec, 'op', id, 'op_ret', seq, unpack(ARGV, fields))
else
  redis.call('HSET', rec, 'op', id, 'op_ret', seq)
end
return seq
