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
-- first ARGV after the batch. `had_output` and `had_first` are the record's has_output and
-- first_token_at as read by the caller.
-- `has_output` (a next attempt must `reset`) is set by any event; `first_token_at` by the first
-- content (text, thinking or tool input), not by a block opening before it.
-- The text goes first: a text key of the wrong type (clobbered from outside) then fails the write
-- before any event is logged or published, so the writer's retry of the same write id cannot
-- publish an event twice (Redis keeps what a script wrote before its error).
local content_types = {delta = true, thinking = true, tool_input = true}
local function apply_batch(at, had_output, had_first)
  if ARGV[at] ~= '' then redis.call('APPEND', textkey, ARGV[at]) end
  local n = tonumber(ARGV[at + 1])
  local seq = 0
  local content = false
  for i = 0, n - 1 do
    local t = ARGV[at + 2 + 2 * i]
    seq = append(t, ARGV[at + 3 + 2 * i])
    if content_types[t] then content = true end
  end
  if n > 0 and had_output ~= '1' then redis.call('HSET', rec, 'has_output', 1) end
  if content and not had_first then redis.call('HSET', rec, 'first_token_at', now_ms()) end
  return seq, at + 2 + 2 * n
end

-- The conversation of this job: its keys share the job's hash tag (keys.ts, `jobTag`), so they are
-- named here from the record's key, in the script's slot. `conv_base` is `<prefix>:{job:<tag>}`.
local conv_base = string.sub(rec, 1, string.find(rec, '}', 1, true))
local conv = {meta = conv_base .. ':conv', history = conv_base .. ':hist', turns = conv_base .. ':turns',
  channel = conv_base .. ':cch'}
local conv_tag = string.match(conv_base, '{job:([^}]+)}$')
-- This job's id: the tag, then what follows the tag in its keys (`.B` for a later turn), before `:rec`.
local job_id = conv_tag .. string.sub(rec, #conv_base + 1, -5)

-- The record, log and text keys of another job of this conversation (same tag, same slot).
local function job_keys_of(job_id)
  local base = conv_base .. string.sub(job_id, #conv_tag + 1)
  return base .. ':rec', base .. ':log', base .. ':text'
end

-- Gives the conversation's keys and every job of it `ttl` seconds, or no TTL (`ttl` nil): a whole
-- conversation lives as long as its last turn, so continuing it never finds a hole. Jobs from before
-- conversations existed have no turns list: only their own keys are touched, by the caller.
local function conversation_lifetime(ttl)
  local function apply(key)
    if ttl then redis.call('EXPIRE', key, ttl) else redis.call('PERSIST', key) end
  end
  for _, job_id in ipairs(redis.call('LRANGE', conv.turns, 0, -1)) do
    local r, l, t = job_keys_of(job_id)
    apply(r)
    apply(l)
    apply(t)
  end
  apply(conv.meta)
  apply(conv.history)
  apply(conv.turns)
end

-- The terminal transition (callers have checked the job is not terminal): status, `done` built from
-- the record, and the result TTL on every key of the job (the first TTL a started job's keys get).
local function finish(status, err_json, now, ttl)
  local f = redis.call('HMGET', rec, 'stop_reason', 'input_tokens', 'output_tokens', 'truncated', 'webhook_url', 'queue_job_id', 'usage_more')
  redis.call('HSET', rec, 'status', status, 'finished_at', now)
  if err_json ~= '' then redis.call('HSET', rec, 'error', err_json) end
  -- usage_more is a JSON object of the upstream's other counters: spliced in after the two always there.
  local more = (f[7] and #f[7] > 2) and (',' .. string.sub(f[7], 2, -2)) or ''
  local done = '{"status":' .. cjson.encode(status)
    .. ',"stop_reason":' .. (f[1] and cjson.encode(f[1]) or 'null')
    .. ',"usage":{"input_tokens":' .. (tonumber(f[2]) or 0) .. ',"output_tokens":' .. (tonumber(f[3]) or 0) .. more .. '}'
    .. ',"error":' .. (err_json ~= '' and err_json or 'null')
    .. ',"truncated":' .. (f[4] == '1' and 'true' or 'false') .. '}'
  local seq = append('done', done)
  redis.call('EXPIRE', rec, ttl)
  redis.call('EXPIRE', log, ttl)
  redis.call('EXPIRE', textkey, ttl)
  conversation_lifetime(ttl)
  -- A webhook waits for this ending: tell the workers on the control channel (`<prefix>:control`), so
  -- its delivery starts now rather than at its fallback time. A channel is not a key: legal on a Cluster.
  if f[5] then
    local prefix = string.sub(rec, 1, string.find(rec, ':{job:', 1, true) - 1)
    redis.call('PUBLISH', prefix .. ':control', 'ended ' .. job_id .. ' ' .. (f[6] or ''))
  end
  return seq
end

-- A create or continue for a job id that has a record: the answer, or nil when there is none.
-- `created` again for a replay of the very call (same token), `exists` for the same request (an
-- Idempotency-Key retry), `conflict` for another request under the same id.
local function existing_record(request_hash, create_token)
  local h = redis.call('HMGET', rec, 'request_hash', 'enqueued', 'create_token', 'created_at', 'queue_job_id')
  if not h[1] then return nil end
  if h[3] == create_token then return {'created', tonumber(h[4]), h[5]} end
  if h[1] ~= request_hash then return {'conflict'} end
  return {'exists', h[2] == '1' and 1 or 0, h[5]}
end

-- Replay guard. ioredis sends a command again after a reconnect when its reply never came; if Redis
-- had run it before the connection dropped, the second run must change nothing and answer as the
-- first did. Every write of an attempt carries its id `<fence>:<op>` (op counts the attempt's writes,
-- which never overlap), and the record keeps the last one applied with its result.
local function write_id(fence, op)
  return fence .. ':' .. op
end

-- One write of an attempt (append.lua's body; append-many.lua runs it per job): ARGV[at] fence,
-- ARGV[at+1] op, then a batch (see apply_batch), then field/value pairs to HSET on the record, up to
-- ARGV[last]. Returns the last sequence number (0 when no event was given; the first run's answer
-- for a replay), or -1 (job gone), -2 (job ended), -3 (a newer attempt owns it, or the attempt is no
-- longer running).
local function append_write(at, last)
  local id = write_id(ARGV[at], ARGV[at + 1])
  local st = redis.call('HMGET', rec, 'status', 'fence', 'has_output', 'op', 'op_ret', 'first_token_at')
  if not st[1] then return -1 end
  if st[4] == id then return tonumber(st[5]) end
  if is_terminal(st[1]) then return -2 end
  if st[2] ~= ARGV[at] or st[1] ~= 'running' then return -3 end
  local seq, fields = apply_batch(at + 2, st[3], st[6])
  if last >= fields then
    redis.call('HSET', rec, 'op', id, 'op_ret', seq, unpack(ARGV, fields, last))
  else
    redis.call('HSET', rec, 'op', id, 'op_ret', seq)
  end
  return seq
end
