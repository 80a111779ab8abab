-- continue: a new job record in status `queued` as the next turn of the conversation its previous
-- job ended, when that job is still the conversation's last (else the caller forks: create.lua with
-- a new conversation). The conversation's history grows by what this turn adds (the previous turn's
-- assistant message as the user saw it, then the request's messages) and the new turn is announced
-- on the conversation's channel. The new job's keys get create.lua's provisional TTL.
-- ARGV[1] provisional TTL seconds, ARGV[2] request hash, ARGV[3] create token, ARGV[4] BullMQ job id,
-- ARGV[5] the previous job's id, ARGV[6] its history_len (what the history must hold now), ARGV[7] m,
-- ARGV[8 .. 7+m] messages to add (JSON), then field/value pairs for the record (turn included).
-- Returns as create.lua, or {'gone'} (the previous job expired), {'status', status} (the previous
-- job is not completed or cancelled), {'fork'} (it has a continuation already).
local existing = existing_record(ARGV[2], ARGV[3])
if existing then return existing end
local prev_rec = job_keys_of(ARGV[5])
local prev = redis.call('HMGET', prev_rec, 'status', 'turn')
if not prev[1] then return {'gone'} end
if prev[1] ~= 'completed' and prev[1] ~= 'cancelled' then return {'status', prev[1]} end
local meta = redis.call('HMGET', conv.meta, 'last_job_id')
if meta[1] ~= ARGV[5] or redis.call('LLEN', conv.history) ~= tonumber(ARGV[6]) then return {'fork'} end
local now = now_ms()
local m = tonumber(ARGV[7])
if m > 0 then redis.call('RPUSH', conv.history, unpack(ARGV, 8, 7 + m)) end
redis.call('RPUSH', conv.turns, job_id)
redis.call('HSET', conv.meta, 'last_job_id', job_id)
local turns = redis.call('HINCRBY', conv.meta, 'turns', 1)
redis.call('HSET', rec, 'status', 'queued', 'attempt', 0, 'seq', 0, 'created_at', now, 'request_hash', ARGV[2],
  'create_token', ARGV[3], 'queue_job_id', ARGV[4], unpack(ARGV, 8 + m))
append('status', '{"status":"queued","attempt":0}')
redis.call('EXPIRE', rec, ARGV[1])
redis.call('EXPIRE', log, ARGV[1])
-- The conversation and its earlier jobs keep the TTL their last turn's end gave them until confirm.lua
-- (the job is queued) or start.lua lifts it: a turn that never reaches the queue changes nothing.
local turn = tonumber(prev[2] or '0') + 1
redis.call('SPUBLISH', conv.channel, turn .. ' ' .. job_id)
return {'created', now, ARGV[4], turns}
