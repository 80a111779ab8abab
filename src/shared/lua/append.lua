-- append: the hot path. Events of one attempt, the output text, record fields, in one round trip.
-- ARGV[1] attempt (the fence), ARGV[2] text to APPEND to the output ('' = none), ARGV[3] n events,
-- ARGV[4 .. 3+2n] type/data pairs, then field/value pairs to HSET on the record.
-- Returns the last sequence number (0 when no event was given), or -1 (job gone), -2 (job ended), -3 (a newer attempt owns it,
-- or the attempt is no longer running).
local st = redis.call('HMGET', rec, 'status', 'attempt', 'has_output')
if not st[1] then return -1 end
if is_terminal(st[1]) then return -2 end
if st[2] ~= ARGV[1] or st[1] ~= 'running' then return -3 end
local n = tonumber(ARGV[3])
local seq = 0
for i = 0, n - 1 do
  seq = append(ARGV[4 + 2 * i], ARGV[5 + 2 * i])
end
if n > 0 and st[3] ~= '1' then
  redis.call('HSET', rec, 'has_output', 1, 'first_token_at', now_ms())
end
if ARGV[2] ~= '' then redis.call('APPEND', textkey, ARGV[2]) end
local fields = 4 + 2 * n
if #ARGV >= fields then redis.call('HSET', rec, unpack(ARGV, fields)) end
return seq
