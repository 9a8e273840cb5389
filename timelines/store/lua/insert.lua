-- KEYS[1] list; ARGV[1] cap; ARGV[2] slack; ARGV[3] boundary (0: none); ARGV[4..] post ids in
-- any order. Inserts ids without duplicates into an existing list, returning how many were
-- added; a missing list is left missing and answers false (nil), so callers can tell "not
-- built" from "already there" without another round trip. Ids below a trimmed list's
-- horizon are dropped: PostgreSQL serves that range.
-- boundary > 0 says the caller's ids are exhaustive only down to boundary, so the list is cut
-- there and stops claiming COMPLETE, which keeps it exact above its new tail.
local key = KEYS[1]
local tail = redis.call('LINDEX', key, -1)
if not tail then return false end
local cap, slack, boundary = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if #ARGV == 4 and boundary == 0 then
  -- Fast path, the fan-out replay and own-post case: one id, pushed at the head like LPUSHX
  -- unless it is already there or below the horizon; trimmed lazily like fan-out.
  if redis.call('LPOS', key, ARGV[4]) then return 0 end
  tail = tonumber(tail)
  if tail > 0 and tonumber(ARGV[4]) < tail then return 0 end
  if redis.call('LPUSH', key, ARGV[4]) > cap + slack then trim_list(key, cap) end
  return 1
end
local items, marker = read_list(key)
local floor = -1
if marker == nil then floor = items[#items] - 1 end
local new = sorted_args(4, floor, boundary)
local out, added = merge_desc(items, new, boundary)
if boundary > 0 and marker == 0 then marker = nil end
if #out == 0 and marker == nil then return 0 end
write_list(key, out, marker, cap)
return added
