-- A fixed request for wrk. Arguments (after --): method, path, and a file holding the body
-- ("-" for none). Headers come from wrk's -H options. Reports like refresh.lua.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local body = nil
  if args[3] and args[3] ~= "-" then
    local file = assert(io.open(args[3], "rb"))
    body = file:read("*a")
    file:close()
  end
  req = wrk.format(args[1], args[2], nil, body)
  failed = 0
  starved = 0
end

function request()
  return req
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"socket_errors": %d, "bad_status": %d, "failed": %d, "starved": 0}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, failures))
end
