-- create: a new job record in status `queued`, and its first event. Its keys get a provisional TTL
-- until confirm.lua (the job reached the queue) or start.lua removes it: a node that dies between the
-- two leaves nothing behind for longer than that, and no one was told of the job.
-- ARGV[1] provisional TTL seconds, ARGV[2] request hash, ARGV[3] create token (unique per call: a
-- replay of this very call answers `created` again), ARGV[4..] field/value pairs.
-- Returns {'created', created_at ms} | {'exists', enqueued 0|1} (same request hash: an Idempotency-Key
-- retry) | {'conflict'} (the id is taken by another request).
local h = redis.call('HMGET', rec, 'request_hash', 'enqueued', 'create_token', 'created_at')
if h[1] then
  if h[3] == ARGV[3] then return {'created', tonumber(h[4])} end
  if h[1] ~= ARGV[2] then return {'conflict'} end
  return {'exists', h[2] == '1' and 1 or 0}
end
local now = now_ms()
redis.call('HSET', rec, 'status', 'queued', 'attempt', 0, 'seq', 0, 'created_at', now, 'request_hash', ARGV[2],
  'create_token', ARGV[3], unpack(ARGV, 4))
append('status', '{"status":"queued","attempt":0}')
redis.call('EXPIRE', rec, ARGV[1])
redis.call('EXPIRE', log, ARGV[1])
return {'created', now}
