-- version_add.lua: add a ruleset version under the next number (LANGUAGE.md 10.9).
--
-- KEYS[1]  the ruleset's versions (hash: next = last number given, N = version JSON,
--          active = the active number)
-- ARGV[1]  the new version as JSON text ({"source": ..., "created_at": ...})
-- Returns  the new version's number (1, 2, ...)

local number = redis.call('HINCRBY', KEYS[1], 'next', 1)
redis.call('HSET', KEYS[1], tostring(number), ARGV[1])
return number
