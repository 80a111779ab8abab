-- create: a new job record in status `queued`, and its first event. Its keys get a provisional TTL
-- until confirm.lua (the job reached the queue) or start.lua removes it: a node that dies between the
-- two leaves nothing behind for longer than that, and no one was told of the job.
-- ARGV[1] provisional TTL seconds, ARGV[2] request hash, ARGV[3] create token (unique per call: a
-- replay of this very call answers `created` again), ARGV[4] the BullMQ job id to queue it under
-- (unique per record, so a key reused after the record expired never meets the finished BullMQ job
-- of its predecessor), ARGV[5..] field/value pairs.
-- Returns {'created', created_at ms, queue job id} | {'exists', enqueued 0|1, queue job id} (same
-- request hash: an Idempotency-Key retry) | {'conflict'} (the id is taken by another request).
local h = redis.call('HMGET', rec, 'request_hash', 'enqueued', 'create_token', 'created_at', 'queue_job_id')
if h[1] then
  if h[3] == ARGV[3] then return {'created', tonumber(h[4]), h[5]} end
  if h[1] ~= ARGV[2] then return {'conflict'} end
  return {'exists', h[2] == '1' and 1 or 0, h[5]}
end
local now = now_ms()
redis.call('HSET', rec, 'status', 'queued', 'attempt', 0, 'seq', 0, 'created_at', now, 'request_hash', ARGV[2],
  'create_token', ARGV[3], 'queue_job_id', ARGV[4], unpack(ARGV, 5))
append('status', '{"status":"queued","attempt":0}')
redis.call('EXPIRE', rec, ARGV[1])
redis.call('EXPIRE', log, ARGV[1])
return {'created', now, ARGV[4]}
