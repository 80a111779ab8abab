-- webhook: the delivery state of the job's webhook, on its record (only while the record exists: a
-- delivery retried after the result expired must not bring back a record of a few fields).
-- ARGV[1] status, ARGV[2] attempts, ARGV[3] last HTTP status ('' = none), ARGV[4] last error ('' = none).
-- Returns 1, or 0 when the record is gone.
if redis.call('EXISTS', rec) == 0 then return 0 end
redis.call('HSET', rec, 'webhook_status', ARGV[1], 'webhook_attempts', ARGV[2],
  'webhook_last_status', ARGV[3], 'webhook_last_error', ARGV[4])
return 1
