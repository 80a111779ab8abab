-- finish: the one terminal transition. The first of complete / fail / cancel / timeout to get here
-- wins; every later finish or append is refused.
-- ARGV[1] attempt fence ('' = none, for cancel and the reaper), ARGV[2] terminal status,
-- ARGV[3] error JSON ('' = none), ARGV[4] result TTL seconds, ARGV[5..] field/value pairs to HSET first.
-- Returns the sequence number of `done`, or -1 (gone), -2 (already ended), -3 (fenced out).
local st = redis.call('HMGET', rec, 'status', 'attempt')
if not st[1] then return -1 end
if is_terminal(st[1]) then return -2 end
if ARGV[1] ~= '' and st[2] ~= ARGV[1] then return -3 end
if #ARGV >= 5 then redis.call('HSET', rec, unpack(ARGV, 5)) end
return finish(ARGV[2], ARGV[3], now_ms(), ARGV[4])
