-- version_activate.lua: mark one version of a ruleset active (LANGUAGE.md 10.9).
--
-- KEYS[1]  the ruleset's versions (hash: next, N = version JSON, active)
-- ARGV[1]  the version number, as decimal text
-- Returns  1, or 0 when the ruleset has no such version (nothing changes)

if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'active', ARGV[1])
return 1
