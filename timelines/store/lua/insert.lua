-- KEYS[1] list; ARGV[1] cap; ARGV[2] slack; ARGV[3] boundary (0: none); ARGV[4] ordered (1/0);
-- ARGV[5..] post ids in any order. Inserts ids without duplicates into an existing list, returning how many were
-- added; a missing list is left missing and answers false (nil), so callers can tell "not
-- built" from "already there" without another round trip. Ids below a trimmed list's
-- horizon are dropped: PostgreSQL serves that range.
-- boundary > 0 says the caller's ids are exhaustive only down to boundary, so the list is cut
-- there and stops claiming COMPLETE, which keeps it exact above its new tail.
local key = KEYS[1]
local tail = redis.call('LINDEX', key, -1)
if not tail then return false end
local cap, slack, boundary = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ordered = ARGV[4] == '1'
if #ARGV == 5 and boundary == 0 then
  -- Fast path, the fan-out replay, own-post and outbox case: one id, pushed at the head like
  -- LPUSHX unless it is already there or below the horizon; trimmed lazily like fan-out. An
  -- ordered list (an outbox, whose head readers may read alone) takes the merge below for an
  -- id older than its head, so it stays sorted.
  if redis.call('LPOS', key, ARGV[5]) then return 0 end
  tail = tonumber(tail)
  local id = tonumber(ARGV[5])
  if tail > 0 and id < tail then return 0 end
  if not ordered or id > tonumber(redis.call('LINDEX', key, 0)) then
    if redis.call('LPUSH', key, ARGV[5]) > cap + slack then trim_list(key, cap) end
    return 1
  end
end
local items, marker = read_list(key)
local floor = -1
if marker == nil then floor = items[#items] - 1 end
local new = sorted_args(5, floor, boundary)
local out, added = merge_desc(items, new, boundary)
if boundary > 0 and marker == 0 then marker = nil end
if #out == 0 and marker == nil then return 0 end
write_list(key, out, marker, cap)
return added
