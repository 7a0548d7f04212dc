-- wrk script of loadtest/bench.sh: POST a JSON body with a different UK mobile number on every
-- request (+447400100000 to +447400199999, wrapping), so per-number limits never bite.
-- Environment: WRK_TOKEN (Bearer token; none when empty).
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("WRK_TOKEN") or ""
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

request = function()
  n = (n + 1) % 100000
  return wrk.format(nil, nil, nil, string.format('{"phoneNumber":"+4474001%05d"}', n))
end
