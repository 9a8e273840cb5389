#!lua flags=allow-cross-slot-keys
-- ARGV[1] message; ARGV[2] channel prefix; ARGV[3] '1' on a cluster; ARGV[4..] stream markers
-- (st:{uid}), all served by this node. PUBLISHes the message to the channel of each reader
-- whose marker exists (prefix .. '{uid}'); returns how many. The markers are arguments, not
-- KEYS: a cluster refuses declared keys of several slots, but lets a script flagged
-- allow-cross-slot-keys read any key its node serves (docs/architecture.md#live-feed).
local sent = 0
local function publish(key)
  local tag = string.find(key, '{', 1, true)
  redis.call('PUBLISH', ARGV[2] .. string.sub(key, tag), ARGV[1])
  sent = sent + 1
end
if ARGV[3] == '1' then
  -- Nor does a cluster run one command over keys of several slots, even in such a script.
  for i = 4, #ARGV do
    if redis.call('EXISTS', ARGV[i]) == 1 then publish(ARGV[i]) end
  end
  return sent
end
local step = 4000 -- under Lua's unpack limit
for first = 4, #ARGV, step do
  local last = math.min(first + step - 1, #ARGV)
  local values = redis.call('MGET', unpack(ARGV, first, last))
  for j = 1, #values do
    if values[j] then publish(ARGV[first + j - 1]) end
  end
end
return sent
