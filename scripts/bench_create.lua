-- wrk (run with -t1): POST /createTask as a new user every 50 requests, so no user reaches the quota (80)
-- BENCH_USERS names the users (a warm-up run uses others than the measured one)
local counter = 0
local prefix = os.getenv("BENCH_USERS") or "wrk"
request = function()
  counter = counter + 1
  return wrk.format("POST", "/createTask",
    { ["X-Forwarded-User"] = prefix .. "-" .. math.floor(counter / 50), ["Content-Type"] = "application/json" },
    '{"url": "http://127.0.0.1:1/none.git", "parameters": ["x"]}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
