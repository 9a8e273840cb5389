-- KEYS[1] list; ARGV[1] ttl in ms. Marks a missing list BUILDING so fan-out starts adding to
-- it while PostgreSQL is queried; returns 1 if it placed the marker.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[1], -1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
