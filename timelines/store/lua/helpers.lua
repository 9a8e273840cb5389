-- Shared by the scripts that need it (prepended when loaded, see timelines/store/scripts.py):
-- merge sorted-descending arrays of numbers without duplicates, then write the result back
-- with its marker, keeping the key's TTL.
local function merge_desc(items, new, boundary)
  local out, added, prev = {}, 0, nil
  local i, j = 1, 1
  while true do
    local a, b = items[i], new[j]
    if a == nil and b == nil then break end
    local pick, fresh
    if b == nil or (a ~= nil and a >= b) then
      pick, fresh, i = a, false, i + 1
    else
      pick, fresh, j = b, true, j + 1
    end
    if pick ~= prev then
      if pick >= boundary then
        out[#out + 1] = pick
        if fresh then added = added + 1 end
      end
      prev = pick
    end
  end
  return out, added
end

-- The list's ids sorted descending without duplicates, and its marker (nil: trimmed). Fan-out
-- pushes at the head in any order; ids below a trimmed list's tail (its horizon) are late
-- arrivals that PostgreSQL serves, so they are dropped here.
local function read_list(key)
  local raw = redis.call('LRANGE', key, 0, -1)
  local n = #raw
  if n == 0 then return {}, nil end
  local marker, floor = tonumber(raw[n]), 1
  if marker > 0 then floor, marker = marker, nil else n = n - 1 end
  local ids = {}
  for k = 1, n do
    local id = tonumber(raw[k])
    if id >= floor then ids[#ids + 1] = id end
  end
  table.sort(ids, function(x, y) return x > y end)
  local items, prev = {}, nil
  for k = 1, #ids do
    if ids[k] ~= prev then items[#items + 1] = ids[k]; prev = ids[k] end
  end
  return items, marker
end

local function write_list(key, items, marker, cap)
  if #items > cap then
    for k = #items, cap + 1, -1 do items[k] = nil end
    if marker == 0 then marker = nil end
  end
  local ttl = redis.call('PTTL', key)
  redis.call('DEL', key)
  for k = 1, #items, 1000 do
    redis.call('RPUSH', key, unpack(items, k, math.min(k + 999, #items)))
  end
  if marker ~= nil then redis.call('RPUSH', key, marker) end
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end

-- Cut a list that fan-out let grow past cap back to cap entries. Usually one LTRIM: keeping
-- the first cap entries as they are is exact when the entry that becomes the tail (the new
-- horizon) is an id no lower than every id cut off, since the list then still holds every id
-- down to it; kept ids out of order below it are late arrivals that readers ignore and
-- PostgreSQL serves. That costs Redis a read of the cut-off entries and the cut, instead of
-- sorting and rewriting the whole list (measured: see docs/performance.md), which it does only when an id
-- out of order straddles the cut, or to keep a BUILDING marker.
local function trim_list(key, cap)
  local cut = redis.call('LRANGE', key, cap - 1, -1)
  local horizon = tonumber(cut[1])
  local fast = horizon ~= nil and horizon > 0 and tonumber(cut[#cut]) ~= -1
  for k = 2, #cut do
    if not fast then break end
    fast = tonumber(cut[k]) <= horizon
  end
  if fast then
    redis.call('LTRIM', key, 0, cap - 1)
  else
    local items, marker = read_list(key)
    write_list(key, items, marker, cap)
  end
end

local function sorted_args(from, floor, boundary)
  local new = {}
  for k = from, #ARGV do
    local id = tonumber(ARGV[k])
    if id > floor and id >= boundary then new[#new + 1] = id end
  end
  table.sort(new, function(x, y) return x > y end)
  return new
end
