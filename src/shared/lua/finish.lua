-- finish: the one terminal transition. The first of complete / fail / cancel / timeout to get here
-- wins; every later finish or append is refused.
-- ARGV[1] fence ('' = unfenced, for the reaper and for failures BullMQ decided), ARGV[2] op,
-- ARGV[3] terminal status, ARGV[4] error JSON ('' = none), ARGV[5] result TTL seconds, ARGV[6] '1' =
-- only if the job's deadline has passed on the Redis clock (the reaper: hosts' clocks may be off),
-- ARGV[7..] field/value pairs to HSET first.
-- Returns the sequence number of `done` (the first run's answer for a replay), or -1 (gone),
-- -2 (already ended), -3 (fenced out), -4 (the deadline has not passed).
local st = redis.call('HMGET', rec, 'status', 'fence', 'op', 'op_ret', 'deadline_at')
if not st[1] then return -1 end
local id = ARGV[1] ~= '' and write_id(ARGV[1], ARGV[2]) or nil
if id and st[3] == id then return tonumber(st[4]) end
if is_terminal(st[1]) then return -2 end
if id and st[2] ~= ARGV[1] then return -3 end
local now = now_ms()
if ARGV[6] == '1' and (not st[5] or now < tonumber(st[5])) then return -4 end
if #ARGV >= 7 then redis.call('HSET', rec, unpack(ARGV, 7)) end
local seq = finish(ARGV[3], ARGV[4], now, ARGV[5])
if id then redis.call('HSET', rec, 'op', id, 'op_ret', seq) end
return seq
