-- Prelude of every job script (prepended by scripts.ts, so each script is still one atomic call).
-- KEYS[1] record hash, KEYS[2] event log stream, KEYS[3] text string, KEYS[4] pub/sub channel.
local rec, log, textkey, chan = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local function is_terminal(s)
  return s == 'completed' or s == 'failed' or s == 'cancelled' or s == 'timed_out'
end

-- Milliseconds from the Redis clock, so every node stamps and compares with one clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The one place an event is numbered: the next sequence number, the log entry `<seq>-0`, the publish.
-- Sharded pub/sub (SPUBLISH): on a Cluster the event goes to the shard that owns the job's slot only
-- (the channel carries the job's hash tag), not to every node; on one Redis it is the same as PUBLISH.
local function append(type, data)
  local seq = redis.call('HINCRBY', rec, 'seq', 1)
  redis.call('XADD', log, seq .. '-0', 't', type, 'd', data)
  redis.call('SPUBLISH', chan, seq .. ' ' .. type .. ' ' .. data)
  return seq
end

-- One batch of an attempt's output: ARGV[at] the text to APPEND ('' = none), ARGV[at+1] n events,
-- then n type/data pairs. Returns the last sequence number (0 without events) and the index of the
-- first ARGV after the batch. `had_output` is the record's has_output as read by the caller.
local function apply_batch(at, had_output)
  local n = tonumber(ARGV[at + 1])
  local seq = 0
  for i = 0, n - 1 do
    seq = append(ARGV[at + 2 + 2 * i], ARGV[at + 3 + 2 * i])
  end
  if n > 0 and had_output ~= '1' then
    redis.call('HSET', rec, 'has_output', 1, 'first_token_at', now_ms())
  end
  if ARGV[at] ~= '' then redis.call('APPEND', textkey, ARGV[at]) end
  return seq, at + 2 + 2 * n
end

-- The terminal transition (callers have checked the job is not terminal): status, `done` built from
-- the record, and the result TTL on every key of the job (the first TTL a started job's keys get).
local function finish(status, err_json, now, ttl)
  local f = redis.call('HMGET', rec, 'stop_reason', 'input_tokens', 'output_tokens', 'truncated', 'webhook_url', 'queue_job_id')
  redis.call('HSET', rec, 'status', status, 'finished_at', now)
  if err_json ~= '' then redis.call('HSET', rec, 'error', err_json) end
  local done = '{"status":' .. cjson.encode(status)
    .. ',"stop_reason":' .. (f[1] and cjson.encode(f[1]) or 'null')
    .. ',"usage":{"input_tokens":' .. (tonumber(f[2]) or 0) .. ',"output_tokens":' .. (tonumber(f[3]) or 0) .. '}'
    .. ',"error":' .. (err_json ~= '' and err_json or 'null')
    .. ',"truncated":' .. (f[4] == '1' and 'true' or 'false') .. '}'
  local seq = append('done', done)
  redis.call('EXPIRE', rec, ttl)
  redis.call('EXPIRE', log, ttl)
  redis.call('EXPIRE', textkey, ttl)
  -- A webhook waits for this ending: tell the workers on the control channel (`<prefix>:control`), so
  -- its delivery starts now rather than at its fallback time. A channel is not a key: legal on a Cluster.
  if f[5] then
    local prefix = string.sub(rec, 1, string.find(rec, ':{job:', 1, true) - 1)
    redis.call('PUBLISH', prefix .. ':control', 'ended ' .. string.match(rec, '{job:([^}]+)}') .. ' ' .. (f[6] or ''))
  end
  return seq
end

-- Replay guard. ioredis sends a command again after a reconnect when its reply never came; if Redis
-- had run it before the connection dropped, the second run must change nothing and answer as the
-- first did. Every write of an attempt carries its id `<fence>:<op>` (op counts the attempt's writes,
-- which never overlap), and the record keeps the last one applied with its result.
local function write_id(fence, op)
  return fence .. ':' .. op
end
