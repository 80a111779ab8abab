-- append: the hot path. Events of one attempt, the output text, record fields, in one round trip.
-- ARGV[1] fence, ARGV[2] op (the write id is `fence:op`, see the replay guard), ARGV[3] text to
-- APPEND to the output ('' = none), ARGV[4] n events, ARGV[5 .. 4+2n] type/data pairs, then
-- field/value pairs to HSET on the record.
-- Returns the last sequence number (0 when no event was given; the first run's answer for a replay),
-- or -1 (job gone), -2 (job ended), -3 (a newer attempt owns it, or the attempt is no longer running).
return append_write(1, #ARGV)
