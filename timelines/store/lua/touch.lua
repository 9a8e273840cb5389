-- KEYS[1] list; ARGV[1] ttl in ms. Sets the expiry of a built list; leaves a missing list
-- missing and a BUILDING placeholder with its short expiry (a dead rebuilder's marker must
-- still vanish soon). Returns 1 if the expiry was set.
local tail = redis.call('LINDEX', KEYS[1], -1)
if not tail or tail == '-1' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
