-- confirm: the job is on the queue. From now on its keys, its conversation's and those of the
-- conversation's earlier jobs live until it ends (then the result TTL).
-- No ARGV. Returns 1, or -1 when the record is gone (its provisional TTL ran out first).
local st = redis.call('HGET', rec, 'status')
if not st then return -1 end
redis.call('HSET', rec, 'enqueued', 1)
if not is_terminal(st) then
  redis.call('PERSIST', rec)
  redis.call('PERSIST', log)
  conversation_lifetime(nil)
end
return 1
