-- KEYS[1] list; ARGV[1] cap; ARGV[2] complete (1/0); ARGV[3] ttl in ms; ARGV[4..] ids from
-- PostgreSQL. Writes the union of the ids and whatever fan-out added since the rebuild began,
-- expiring in ttl ms (at once if ttl <= 0). Returns 0 without writing if the list vanished
-- meanwhile (flushed): fan-outs since then were dropped, so the ids may be stale and the
-- caller must start over.
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local cap, complete = tonumber(ARGV[1]), ARGV[2] == '1'
local items = read_list(key)
local new = sorted_args(4, -1, 0)
local out = merge_desc(items, new, 0)
local marker = nil
if complete then marker = 0 end
write_list(key, out, marker, cap)
redis.call('PEXPIRE', key, ARGV[3])
return 1
