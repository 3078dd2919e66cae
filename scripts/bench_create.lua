-- wrk (run with -t1): POST /createTask as a new user every 50 requests, so no user reaches the quota (80)
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/createTask",
    { ["X-Forwarded-User"] = "wrk-" .. math.floor(counter / 50), ["Content-Type"] = "application/json" },
    '{"url": "http://127.0.0.1:1/none.git", "parameters": ["x"]}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
