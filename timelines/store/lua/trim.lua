-- KEYS[1] list; ARGV[1] cap. Cuts a list that fan-out let grow past its cap back to it (see
-- trim_list); returns 1 if it cut the list. Concurrent trims are harmless.
if redis.call('LLEN', KEYS[1]) <= tonumber(ARGV[1]) then return 0 end
trim_list(KEYS[1], tonumber(ARGV[1]))
return 1
