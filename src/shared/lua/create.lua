-- create: a new job record in status `queued`, and its first event, as the first turn of a new
-- conversation (a job without a previous one, or a fork). Its keys and the conversation's get a
-- provisional TTL until confirm.lua (the job reached the queue) or start.lua removes it: a node that
-- dies between the two leaves nothing behind for longer than that, and no one was told of the job.
-- ARGV[1] provisional TTL seconds, ARGV[2] request hash, ARGV[3] create token (unique per call: a
-- replay of this very call answers `created` again), ARGV[4] the BullMQ job id to queue it under
-- (unique per record, so a key reused after the record expired never meets the finished BullMQ job
-- of its predecessor), ARGV[5] m, ARGV[6 .. 5+m] the conversation's history so far (JSON messages:
-- this turn's own, after a fork's copied prefix), then c, then c field/value pairs for the
-- conversation's hash, then field/value pairs for the record.
-- Returns {'created', created_at ms, queue job id} | {'exists', enqueued 0|1, queue job id} (same
-- request hash: an Idempotency-Key retry) | {'conflict'} (the id is taken by another request).
local existing = existing_record(ARGV[2], ARGV[3])
if existing then return existing end
local now = now_ms()
local m = tonumber(ARGV[5])
local c = tonumber(ARGV[6 + m])
local fields_at = 7 + m + 2 * c
-- A new conversation: whatever an expired one with this id left behind goes first.
redis.call('DEL', conv.meta, conv.history, conv.turns)
if m > 0 then redis.call('RPUSH', conv.history, unpack(ARGV, 6, 5 + m)) end
redis.call('RPUSH', conv.turns, job_id)
redis.call('HSET', conv.meta, 'created_at', now, unpack(ARGV, 7 + m, 6 + m + 2 * c))
redis.call('HSET', rec, 'status', 'queued', 'attempt', 0, 'seq', 0, 'created_at', now, 'request_hash', ARGV[2],
  'create_token', ARGV[3], 'queue_job_id', ARGV[4], unpack(ARGV, fields_at))
append('status', '{"status":"queued","attempt":0}')
redis.call('EXPIRE', rec, ARGV[1])
redis.call('EXPIRE', log, ARGV[1])
conversation_lifetime(ARGV[1])
return {'created', now, ARGV[4]}
