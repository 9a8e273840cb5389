-- KEYS[1] list; ARGV[1..] post ids to drop. Used when you unfollow, block or mute someone.
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local drop = {}
for k = 1, #ARGV do drop[tonumber(ARGV[k])] = true end
local items, marker = read_list(key)
local kept = {}
for k = 1, #items do
  if not drop[items[k]] then kept[#kept + 1] = items[k] end
end
local removed = #items - #kept
if removed == 0 then return 0 end
if #kept == 0 and marker == nil then
  redis.call('DEL', key)  -- nothing left to vouch for: rebuilt on the next read
else
  write_list(key, kept, marker, #kept)
end
return removed
