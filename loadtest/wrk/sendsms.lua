-- wrk script of loadtest/bench.sh: Kannel's GET /cgi-bin/sendsms with a different UK mobile
-- number on every request (same numbers as post.lua), account of loadtest/kannel/kannel.conf.
local n = 0

request = function()
  n = (n + 1) % 100000
  return wrk.format("GET", string.format(
    "/cgi-bin/sendsms?username=test&password=secret&to=%%2B4474001%05d&text=Your+code+is+123456", n))
end
