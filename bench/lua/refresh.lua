-- Refresh load for wrk: every request uses the newest refresh token of its session.
-- Arguments (after --): a file of refresh tokens, one session per line; the path to POST.
-- Each thread keeps a queue of its sessions' tokens. A request takes the token at the head;
-- its answer's st-refresh-token goes to the tail. A session is never in flight twice, and a
-- session whose refresh fails leaves the queue (counted in `failed`).

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

function init(args)
  local path = args[2] or "/auth/session/refresh"
  queue, head, tail = {}, 1, 0
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no % tonumber(os.getenv("WRK_THREADS") or "1") == id then
      tail = tail + 1
      queue[tail] = line
    end
    line_no = line_no + 1
  end
  failed = 0
  starved = 0
  base_headers = { ["st-auth-mode"] = "header", ["rid"] = "session", ["fdi-version"] = "4.1" }
  wrk.method = "POST"
  wrk.path = path
end

function request()
  if head > tail then
    -- More connections than live sessions: the run is invalid (reported, and refused).
    starved = starved + 1
    return wrk.format("GET", "/bench-starved")
  end
  local token = queue[head]
  queue[head] = nil
  head = head + 1
  base_headers["authorization"] = "Bearer " .. token
  return wrk.format("POST", wrk.path, base_headers, "")
end

function response(status, headers, body)
  local token = headers["st-refresh-token"]
  if status == 200 and token then
    tail = tail + 1
    queue[tail] = token
  else
    failed = failed + 1
  end
end
