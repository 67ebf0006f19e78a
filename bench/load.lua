-- wrk script: rotates through request paths and prints latency percentiles in one line.
-- BENCH_PATHS (space-separated) overrides the default set of typical inventory searches; the
-- baseline run sets it to "/healthz".
local paths = {
  "/api/dashboards?search=sales",
  "/api/dashboards?search=revenue%20dashboard%2042",
  "/api/dashboards?owner=owner7",
  "/api/dashboards?environment=stage&search=churn",
  "/api/dashboards?page=3&per_page=50",
  "/api/dashboards?search=nothing-matches-this",
  "/api/charts?search=pipeline",
  "/api/dashboards?environment=prod&page=2",
}
local override = os.getenv("BENCH_PATHS")
if override and #override > 0 then
  paths = {}
  for p in string.gmatch(override, "%S+") do table.insert(paths, p) end
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f rps=%.0f requests=%d errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout))
end
