-- wrk (run with -t1): GET /getAllTasks for users that have tasks (created by the createTask run)
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/getAllTasks", { ["X-Forwarded-User"] = "wrk-" .. (counter % 20) })
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
