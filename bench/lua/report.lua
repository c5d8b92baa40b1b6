-- What every load script of bench/ shares (each loads it with dofile): wrk's setup, which
-- numbers the threads (`id`), and done, which writes the WRK_RESULT line bench/load.py reads.
-- A script counts, in each thread, answers it did not accept in `failed` and requests it had
-- nothing to send for in `starved`.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local failures, starvation = 0, 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
    starvation = starvation + thread:get("starved")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"socket_errors": %d, "bad_status": %d, "failed": %d, "starved": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, failures, starvation))
end
