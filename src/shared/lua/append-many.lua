-- append-many: the appends of several jobs in one call, each exactly as append.lua runs it (the worker
-- sends the writes its jobs make in one event-loop turn together; one Redis only, never a Cluster,
-- where the jobs' keys are in different slots). Job j's four keys are KEYS[4j-3 .. 4j], in the
-- prelude's order. ARGV holds, per job in the same order, the number of its arguments and then its
-- append's arguments (fence, op, text, n events, type/data pairs, field/value pairs).
-- Returns one answer per job: append.lua's answer, or `error <message>` when that job's write raised
-- an error (Redis does not undo a script's earlier commands, so one job's error must not fail the
-- others' writes, which did run). Each job's write has its own replay guard, so a replay of the whole
-- call, or of one job's write alone, applies nothing twice.
local out = {}
local at = 1
for j = 1, #KEYS / 4 do
  rec, log, textkey, chan = KEYS[4 * j - 3], KEYS[4 * j - 2], KEYS[4 * j - 1], KEYS[4 * j]
  local len = tonumber(ARGV[at])
  local ok, answer = pcall(append_write, at + 1, at + len)
  if ok then
    out[j] = answer
  else
    -- redis.call raises a table with `err`; a Lua error raises a string.
    out[j] = 'error ' .. tostring(type(answer) == 'table' and answer.err or answer)
  end
  at = at + 1 + len
end
return out
