-- Code consume load for wrk: every request consumes a code no request has used (passwordless
-- codes, or a provider's authorisation codes for the social sign-in/up).
-- Arguments (after --): a file of request bodies, one code per line; the path to POST; the rid
-- header (passwordless when absent).
-- Each thread takes its share of the lines (line n goes to thread n mod WRK_THREADS) and
-- sends each exactly once, in order. Any answer but 200 with an access token counts in
-- `failed`; a request with no body left to send counts in `starved` (the run is invalid).

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

function init(args)
  path = args[2] or "/auth/signinup/code/consume"
  bodies, next_body = {}, 1
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no % tonumber(os.getenv("WRK_THREADS") or "1") == id then
      table.insert(bodies, line)
    end
    line_no = line_no + 1
  end
  failed = 0
  starved = 0
  headers = {
    ["content-type"] = "application/json",
    ["rid"] = args[3] or "passwordless",
    ["st-auth-mode"] = "header",
    ["fdi-version"] = "4.1",
  }
end

function request()
  local body = bodies[next_body]
  if body == nil then
    starved = starved + 1
    return wrk.format("GET", "/bench-starved")
  end
  bodies[next_body] = nil
  next_body = next_body + 1
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status ~= 200 or not headers["st-access-token"] then
    failed = failed + 1
  end
end
