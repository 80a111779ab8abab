-- start: a worker begins the next attempt. Takes the next fence (the number every later write of
-- this attempt is checked against) and counts the attempt against the limit, unless the last one was
-- handed back by a worker that shut down. Fixes the deadline at the first start, appends `reset` when
-- an earlier attempt produced output, then `status running`. Ends the job instead when it was
-- cancelled or its deadline passed while it waited, or when the limit is used up (a crash loop: the
-- attempts before this one ended without their worker recording anything).
-- ARGV[1] worker id, ARGV[2] start token (unique per call: the replay guard), ARGV[3] most attempts,
-- ARGV[4] result TTL seconds.
-- Returns {'started', attempt, fence, deadline_at, ms left before the deadline (Redis clock), params
-- JSON, the turn, then the messages of the conversation's history the upstream gets (JSON each; none for a job
-- from before conversations, whose params hold its messages)} | {'ended', status} | {'gone'} |
-- {'superseded'}. A replayed call returns what its first run
-- started, or `superseded` when a later start has replaced it since (the replay came too late).
local f = redis.call('HMGET', rec, 'status', 'cancel_requested_at', 'deadline_at', 'has_output',
  'last_error', 'max_duration_ms', 'params', 'start_token', 'attempt', 'fence', 'handed_back', 'start_tokens',
  'history_len', 'turn', 'enqueued')
local function started(attempt, fence, deadline, left)
  local out = {'started', attempt, fence, deadline, left, f[7], tonumber(f[14]) or 1}
  local n = tonumber(f[13])
  if n and n > 0 then
    for _, m in ipairs(redis.call('LRANGE', conv.history, 0, n - 1)) do out[#out + 1] = m end
  end
  return out
end
if not f[1] then return {'gone'} end
if is_terminal(f[1]) then return {'ended', f[1]} end
local now = now_ms()
if f[8] == ARGV[2] and f[1] == 'running' then
  local deadline = tonumber(f[3])
  return started(tonumber(f[9]), tonumber(f[10]), deadline, math.max(0, deadline - now))
end
if f[12] and string.find(' ' .. f[12] .. ' ', ' ' .. ARGV[2] .. ' ', 1, true) then return {'superseded'} end
if f[2] then
  finish('cancelled', '{"type":"cancelled","message":"cancelled before the attempt started"}', now, ARGV[4])
  return {'ended', 'cancelled'}
end
if f[3] and now >= tonumber(f[3]) then
  finish('timed_out', '{"type":"timed_out","message":"max_duration_ms passed before the attempt started"}', now, ARGV[4])
  return {'ended', 'timed_out'}
end
local attempt = tonumber(f[9]) or 0
if f[11] ~= '1' then attempt = attempt + 1 end
local limit = tonumber(ARGV[3])
-- Still `running` at a start: the attempt before ended without a word (crash, lost lock), and
-- last_error, if any, is an older attempt's.
local interrupted = f[1] == 'running'
if attempt > limit then
  local last = interrupted and 'ended without a result: its worker stopped or lost the job'
    or ('failed: ' .. (f[5] or 'unknown'))
  local message = 'all ' .. limit .. ' attempts used; the last one ' .. last
  finish('failed', cjson.encode({type = 'attempts_exhausted', message = message}), now, ARGV[4])
  return {'ended', 'failed'}
end
local fence = redis.call('HINCRBY', rec, 'fence', 1)
local deadline = tonumber(f[3])
if not deadline then
  deadline = now + tonumber(f[6])
  redis.call('HSET', rec, 'started_at', now, 'deadline_at', deadline)
end
redis.call('HSET', rec, 'status', 'running', 'attempt', attempt, 'attempt_started_at', now,
  'worker', ARGV[1], 'start_token', ARGV[2], 'start_tokens', f[12] and (f[12] .. ' ' .. ARGV[2]) or ARGV[2])
redis.call('HDEL', rec, 'stop_reason', 'truncated', 'output_tokens', 'first_token_at', 'handed_back', 'last_error',
  'usage_more', 'stop_sequence', 'stop_details', 'container')
if f[4] == '1' then
  local reason = (not interrupted and f[5]) or 'the previous attempt was interrupted: its worker stopped or lost the job'
  append('reset', '{"attempt":' .. attempt .. ',"reason":' .. cjson.encode(reason) .. '}')
  redis.call('DEL', textkey)
  redis.call('HDEL', rec, 'has_output')
end
-- The attempt's events start here: the record's content is the fold of the log from this event on.
local attempt_seq = append('status', '{"status":"running","attempt":' .. attempt .. '}')
redis.call('HSET', rec, 'attempt_seq', attempt_seq)
-- A job that has not ended keeps its keys, and its conversation its own, however long it runs or
-- waits (create gave them a provisional TTL in case the job never reached the queue).
redis.call('PERSIST', rec)
redis.call('PERSIST', log)
-- confirm.lua did this for the conversation when the job was queued; only a job whose API node died
-- between queueing and confirming gets here without it.
if f[15] ~= '1' then conversation_lifetime(nil) end
return started(attempt, fence, deadline, deadline - now)
