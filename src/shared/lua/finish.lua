-- finish: the one terminal transition. The first of complete / fail / cancel / timeout to get here
-- wins; every later finish or append is refused.
-- ARGV[1] fence ('' = unfenced, for the reaper and for failures BullMQ decided), ARGV[2] op,
-- ARGV[3] terminal status, ARGV[4] error JSON ('' = none), ARGV[5] result TTL seconds, ARGV[6] ms:
-- only if the job's deadline passed at least that long ago on the Redis clock ('' = no check; the
-- reaper passes its grace: hosts' clocks may be off, and the job's own worker goes first),
-- ARGV[7..] a last batch of the attempt's output as in append.lua (text, n, n type/data pairs; '' and
-- 0 for none), appended before `done`, then field/value pairs to HSET first.
-- Returns the sequence number of `done` (the first run's answer for a replay), or -1 (gone),
-- -2 (already ended), -3 (fenced out), -4 (the deadline has not passed by ARGV[6]).
local st = redis.call('HMGET', rec, 'status', 'fence', 'op', 'op_ret', 'deadline_at', 'has_output', 'first_token_at')
if not st[1] then return -1 end
local id = ARGV[1] ~= '' and write_id(ARGV[1], ARGV[2]) or nil
if id and st[3] == id then return tonumber(st[4]) end
if is_terminal(st[1]) then return -2 end
if id and st[2] ~= ARGV[1] then return -3 end
local now = now_ms()
if ARGV[6] ~= '' and (not st[5] or now < tonumber(st[5]) + tonumber(ARGV[6])) then return -4 end
local _, fields = apply_batch(7, st[6], st[7])
if #ARGV >= fields then redis.call('HSET', rec, unpack(ARGV, fields)) end
local seq = finish(ARGV[3], ARGV[4], now, ARGV[5])
if id then redis.call('HSET', rec, 'op', id, 'op_ret', seq) end
return seq
