-- revert.lua: one revert step, atomically (engine/store/__init__.py RevertStep;
-- LANGUAGE.md 10.5): a redeemed coupon goes back to issued. Stock and budget stay taken.
--
-- KEYS[1]  the coupon record (hash, the fields of CouponRecord)
-- KEYS[2]  the log stream of the coupon's tag
-- ARGV[1]  JSON object:
--   f  [field, value, ...] the log entry; the script appends the record's ruleset,
--      campaign, reward, user (the owner), and the amount and order it reverts
-- Returns  {status, reason, field, value, ...}: status is reverted or rejected; reason is
--          "" for reverted; the fields are the record after the step (none for
--          unknown_code)

local a = cjson.decode(ARGV[1])
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then
  return {'rejected', 'unknown_code'}
end
local record = {}
for i = 1, #flat, 2 do
  record[flat[i]] = flat[i + 1]
end

local function answer(status, reason)
  local out = {status, reason}
  for _, v in ipairs(flat) do
    out[#out + 1] = v
  end
  return out
end

if record.state ~= 'redeemed' then
  return answer('rejected', 'not_redeemed')
end

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
entry[#entry + 1] = record.amount
if record.order then
  entry[#entry + 1] = 'order'
  entry[#entry + 1] = record.order
end
redis.call('HSET', KEYS[1], 'state', 'issued')
redis.call('HDEL', KEYS[1], 'order', 'amount')
redis.call(unpack(entry))
flat = redis.call('HGETALL', KEYS[1])
return answer('reverted', '')
