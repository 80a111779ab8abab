-- cancel: records the request durably. A queued job ends `cancelled` here (no upstream call will be
-- made: start.lua sees it ended); a running one keeps running until its worker, told over the control
-- channel or checking the flag at start, aborts and finishes it. Idempotent as it is: a replay finds
-- the flag set or the job ended.
-- ARGV[1] result TTL seconds. Returns {'gone'} | {'ended', status} (already terminal) |
-- {'cancelled'} (was queued) | {'requested'} (running; the worker must act).
local st = redis.call('HMGET', rec, 'status', 'cancel_requested_at')
if not st[1] then return {'gone'} end
if is_terminal(st[1]) then return {'ended', st[1]} end
local now = now_ms()
if not st[2] then redis.call('HSET', rec, 'cancel_requested_at', now) end
if st[1] == 'queued' then
  finish('cancelled', '{"type":"cancelled","message":"cancelled while queued"}', now, ARGV[1])
  return {'cancelled'}
end
return {'requested'}
