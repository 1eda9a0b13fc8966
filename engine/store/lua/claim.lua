-- claim.lua: one claim step, atomically (engine/store/__init__.py ClaimStep; LANGUAGE.md
-- 7.4, 8 and 10.2 step 6). Lua has no rollback, so every check comes before the first write.
--
-- KEYS     every key the step may touch, each once, all under one {tag}: the log stream,
--          the idempotency record, the counters (checks, prize stocks and budgets, pity)
--          and the coupon records of every outcome. ARGV names them by 1-based index.
-- ARGV[1]  JSON object:
--   key      index of the idempotency record (hash: fp, result), 0 without a key
--   fp       the claim's fingerprint;  kttl: the record's TTL in seconds, 0 for none
--   refusal  a rule check's reason, "" for none
--   checks   flat runs of five: index, limit, amount, reason, ttl (0: no EXPIRE), in order
--   outcomes [{w = weight, c = counters like checks (a prize's stocks, then budgets),
--              cp = [[index, field, value, ...], ...] coupon records to create,
--              f = [field, value, ...] the log entry, r = result JSON (with a key),
--              pz = prize as JSON text}, ...]
--   draw     false, or {u, ut = u as JSON text, other = last outcome is `otherwise`,
--            g = guaranteed outcome (0: none), after, pity = index, pttl}
--   log      index of the log stream
-- Returns  {"replayed", result} | {"key_reused"} | {"rejected", reason} | {"code_taken"}
--          | {"issued", outcome} with outcome 1-based
--
-- Engine time never enters: TTLs come relative (Lua never reads the clock).

local a = cjson.decode(ARGV[1])

local function int(n)
  -- Integers as exact decimal text: amounts stay exact below 2^53.
  return string.format('%.0f', n)
end

-- Step 1: the idempotency record wins over everything, refusals included.
if a.key > 0 then
  local record = redis.call('HMGET', KEYS[a.key], 'fp', 'result')
  if record[1] then
    if record[1] == a.fp then
      return {'replayed', record[2]}
    end
    return {'key_reused'}
  end
end
if a.refusal ~= '' then
  return {'rejected', a.refusal}
end

-- Every counter the step may read, in one MGET: one command instead of one GET each.
local values, pending = {}, {}
do
  local wanted, seen = {}, {}
  local function want(k)
    if k > 0 and not seen[k] then
      seen[k] = true
      wanted[#wanted + 1] = k
    end
  end
  for i = 1, #a.checks, 5 do
    want(a.checks[i])
  end
  for _, o in ipairs(a.outcomes) do
    for i = 1, #o.c, 5 do
      want(o.c[i])
    end
  end
  if a.draw then
    want(a.draw.pity)
  end
  if #wanted > 0 then
    local names = {}
    for i, k in ipairs(wanted) do
      names[i] = KEYS[k]
    end
    local got = redis.call('MGET', unpack(names))
    for i, k in ipairs(wanted) do
      values[k] = tonumber(got[i] or '0')
    end
  end
end

local function current(k)
  return values[k] + (pending[k] or 0)
end

-- The first counter without room for its amount (on top of what the step already
-- takes): its reason, or nil.
local function first_full(c)
  local extra = {}
  for i = 1, #c, 5 do
    local k = c[i]
    if current(k) + (extra[k] or 0) + c[i + 2] > c[i + 1] then
      return c[i + 3]
    end
    extra[k] = (extra[k] or 0) + c[i + 2]
  end
  return nil
end

-- LANGUAGE.md 7.4: pity first, then the draw over the weights as seen.
local function draw(outcomes, d)
  local n = #outcomes
  local prizes = d.other and n - 1 or n
  local weights, available, spare, total = {}, {}, 0, 0
  for i = 1, prizes do
    available[i] = first_full(outcomes[i].c) == nil
    weights[i] = available[i] and outcomes[i].w or 0
    spare = spare + outcomes[i].w - weights[i]
    total = total + weights[i]
  end
  if d.other then
    -- Unavailable prizes' weight goes to `otherwise`: published odds never rise.
    weights[n] = outcomes[n].w + spare
    total = total + weights[n]
  end
  if d.g > 0 and available[d.g] and current(d.pity) >= d.after then
    return d.g, weights, true
  end
  if total == 0 then
    return (d.other and n or nil), weights, false
  end
  local pick, acc = d.u * total, 0
  for i = 1, n do
    acc = acc + weights[i]
    if pick < acc then
      return i, weights, false
    end
  end
  for i = n, 1, -1 do -- rounding put pick at the total: the last outcome with weight
    if weights[i] > 0 then
      return i, weights, false
    end
  end
end

local function add(c)
  for i = 1, #c, 5 do
    local amount = c[i + 2]
    if amount ~= 0 then
      local key = KEYS[c[i]]
      local now = redis.call('INCRBY', key, int(amount))
      -- A counter's expiry is its period's end, the same for every write: set it when
      -- the write created the key (counters only grow), not on every claim.
      if c[i + 4] > 0 and now == amount then
        redis.call('EXPIRE', key, int(c[i + 4]))
      end
    end
  end
end

-- Steps 3 and 4: checks in order, then the outcome.
local full = first_full(a.checks)
if full then
  return {'rejected', full}
end
for i = 1, #a.checks, 5 do
  local k = a.checks[i]
  pending[k] = (pending[k] or 0) + a.checks[i + 2]
end

local chosen, weights, by_pity = 1, nil, false
if a.draw then
  chosen, weights, by_pity = draw(a.outcomes, a.draw)
  if not chosen then
    return {'rejected', 'out_of_stock'}
  end
else
  full = first_full(a.outcomes[1].c)
  if full then
    return {'rejected', full}
  end
end
local outcome = a.outcomes[chosen]

-- Step 5: a code that exists already (the engine retries with fresh codes).
for _, coupon in ipairs(outcome.cp) do
  if redis.call('EXISTS', KEYS[coupon[1]]) == 1 then
    return {'code_taken'}
  end
end

-- Step 6: commit.
add(a.checks)
add(outcome.c)
local d = a.draw
if d and d.g > 0 then
  if chosen == d.g then
    redis.call('SET', KEYS[d.pity], '0')
  else
    redis.call('INCR', KEYS[d.pity])
  end
  if d.pttl > 0 then
    redis.call('EXPIRE', KEYS[d.pity], int(d.pttl))
  end
end
for _, coupon in ipairs(outcome.cp) do
  redis.call('HSET', KEYS[coupon[1]], unpack(coupon, 2))
end
if a.key > 0 then
  redis.call('HSET', KEYS[a.key], 'fp', a.fp, 'result', outcome.r)
  if a.kttl > 0 then
    redis.call('EXPIRE', KEYS[a.key], int(a.kttl))
  end
end
local entry = {'XADD', KEYS[a.log], '*'}
for _, v in ipairs(outcome.f) do
  entry[#entry + 1] = v
end
if d then
  local seen = {}
  for i, w in ipairs(weights) do
    seen[i] = int(w)
  end
  entry[#entry + 1] = 'draw'
  entry[#entry + 1] = '{"u":' .. d.ut .. ',"weights":[' .. table.concat(seen, ',')
    .. '],"outcome":' .. (chosen - 1) .. ',"prize":' .. outcome.pz
    .. ',"pity":' .. tostring(by_pity) .. '}'
end
redis.call(unpack(entry))
return {'issued', chosen}
