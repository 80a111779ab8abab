-- start: a worker begins the next attempt. Takes the next attempt number (the fence every later write
-- of this attempt is checked against), fixes the deadline at the first start, appends `reset` when an
-- earlier attempt produced output, then `status running`. Ends the job instead when it was cancelled or
-- its deadline passed while it waited.
-- ARGV[1] worker id, ARGV[2] TTL seconds while running, ARGV[3] result TTL seconds.
-- Returns {'started', attempt, deadline_at, params JSON} | {'ended', status} | {'gone'}.
local f = redis.call('HMGET', rec, 'status', 'cancel_requested_at', 'deadline_at', 'has_output',
  'last_error', 'max_duration_ms', 'params')
if not f[1] then return {'gone'} end
if is_terminal(f[1]) then return {'ended', f[1]} end
local now = now_ms()
if f[2] then
  finish('cancelled', '{"type":"cancelled","message":"cancelled before the attempt started"}', now, ARGV[3])
  return {'ended', 'cancelled'}
end
if f[3] and now >= tonumber(f[3]) then
  finish('timed_out', '{"type":"timed_out","message":"max_duration_ms passed before the attempt started"}', now, ARGV[3])
  return {'ended', 'timed_out'}
end
local attempt = redis.call('HINCRBY', rec, 'attempt', 1)
local deadline = tonumber(f[3])
if not deadline then
  deadline = now + tonumber(f[6])
  redis.call('HSET', rec, 'started_at', now, 'deadline_at', deadline)
end
redis.call('HSET', rec, 'status', 'running', 'attempt_started_at', now, 'worker', ARGV[1])
redis.call('HDEL', rec, 'stop_reason', 'truncated', 'output_tokens', 'first_token_at')
if f[4] == '1' then
  local reason = f[5] or 'the previous attempt was interrupted'
  append('reset', '{"attempt":' .. attempt .. ',"reason":' .. cjson.encode(reason) .. '}')
  redis.call('DEL', textkey)
  redis.call('HDEL', rec, 'has_output')
end
append('status', '{"status":"running","attempt":' .. attempt .. '}')
redis.call('EXPIRE', rec, ARGV[2])
redis.call('EXPIRE', log, ARGV[2])
return {'started', attempt, deadline, f[7]}
