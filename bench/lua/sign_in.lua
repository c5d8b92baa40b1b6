-- Sign-in load for wrk: each request signs in the next account of a list, round robin, so
-- that no account has more than a few attempts in flight (sign-in backoff counts an attempt
-- as a failure until it succeeds). Arguments (after --): a file of request bodies, one
-- account per line. Every answer must be 200 with status OK and a session.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

function init(args)
  bodies = {}
  for line in io.lines(args[1]) do
    table.insert(bodies, line)
  end
  next_body = 1
  failed = 0
  starved = 0
  headers = {
    ["content-type"] = "application/json",
    ["rid"] = "emailpassword",
    ["st-auth-mode"] = "header",
    ["fdi-version"] = "4.1",
  }
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/auth/signin", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or not headers["st-access-token"] or not string.find(body, '"OK"', 1, true) then
    failed = failed + 1
  end
end
