-- redeem.lua: one redeem step, atomically (engine/store/__init__.py RedeemStep;
-- LANGUAGE.md 10.4): of two concurrent redeems of a coupon, one wins.
--
-- KEYS[1]  the coupon record (hash, the fields of CouponRecord)
-- KEYS[2]  the log stream of the coupon's tag
-- ARGV[1]  JSON object:
--   user      the redeeming user's id
--   order     the order id, or null
--   now       engine time, unix seconds (Lua never reads the clock)
--   verdicts  {terms id: reason, or an amount in minor units as decimal digits}
--   f         [field, value, ...] the log entry; the script appends the record's
--             ruleset, campaign, reward, user, the amount and the order
-- Returns  {status, reason, amount, field, value, ...}: status is redeemed, replayed,
--          rejected or need_terms; reason and amount are "" when they do not apply; the
--          fields are the record after the step (none for unknown_code)

local a = cjson.decode(ARGV[1])
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then
  return {'rejected', 'unknown_code', ''}
end
local record = {}
for i = 1, #flat, 2 do
  record[flat[i]] = flat[i + 1]
end

local function answer(status, reason, amount)
  local out = {status, reason, amount}
  for _, v in ipairs(flat) do
    out[#out + 1] = v
  end
  return out
end

local order = type(a.order) == 'string' and a.order or nil
if record.owner ~= a.user then
  return answer('rejected', 'not_owner', '')
end
if record.state == 'redeemed' then
  -- A checkout that retries with the same order gets the same answer.
  if order and record.order == order then
    return answer('replayed', '', record.amount)
  end
  return answer('rejected', 'already_redeemed', '')
end
if a.now < tonumber(record.valid_from) then
  return answer('rejected', 'not_yet_valid', '')
end
if a.now > tonumber(record.valid_until) then
  return answer('rejected', 'expired', '')
end
local verdict = a.verdicts[record.terms]
if verdict == nil then
  return answer('need_terms', '', '')
end
if not string.match(verdict, '^%d+$') then
  return answer('rejected', verdict, '')
end

local write = {'HSET', KEYS[1], 'state', 'redeemed', 'amount', verdict}
local entry = {'XADD', KEYS[2], '*'}
for _, v in ipairs(a.f) do
  entry[#entry + 1] = v
end
for _, name in ipairs({'ruleset', 'campaign', 'reward'}) do
  entry[#entry + 1] = name
  entry[#entry + 1] = record[name]
end
entry[#entry + 1] = 'user'
entry[#entry + 1] = record.owner
entry[#entry + 1] = 'amount'
entry[#entry + 1] = verdict
if order then
  write[#write + 1] = 'order'
  write[#write + 1] = order
  entry[#entry + 1] = 'order'
  entry[#entry + 1] = order
end
redis.call(unpack(write))
redis.call(unpack(entry))
flat = redis.call('HGETALL', KEYS[1])
return answer('redeemed', '', verdict)
