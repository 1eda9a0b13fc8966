-- wrk script for the HTTP benchmark: POST a claim for a new user each time, with an
-- Idempotency-Key and the API key from the environment, so that every request runs the
-- whole claim path (auth, validation, rules, one Redis script). The same body shape goes
-- to the bare endpoint, which ignores the headers.
local counter = 0
local key = os.getenv("PROMO_BENCH_KEY") or ""
local prefix = os.getenv("PROMO_BENCH_RUN") or "r"

request = function()
  counter = counter + 1
  local user = prefix .. "-u" .. counter
  local body = '{"campaign":"bench_claim","user":"' .. user .. '","device":"d' .. user
    .. '","ip":"203.0.113.7","context":{"channel":"app","cart":{"items":['
    .. '{"sku":"KETTLE","category":"kitchen","price":"99.99","qty":1},'
    .. '{"sku":"MUG","category":"home","price":"15.69","qty":2}]}}}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = user,
  }
  return wrk.format("POST", "/v1/claims", headers, body)
end
