-- list_replace.lua: replace a runtime list's values at once (LANGUAGE.md 10.6), so that no
-- reader ever sees it empty or half written.
--
-- KEYS[1]  the list (set)
-- ARGV     the new values (any number, possibly none)
-- Returns  the number of values in the list

redis.call('DEL', KEYS[1])
local chunk = 1000 -- unpack() has a stack limit
for i = 1, #ARGV, chunk do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + chunk - 1, #ARGV)))
end
return #ARGV
