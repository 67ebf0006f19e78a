-- wrk script for the baseline (/healthz: routing, middleware, no store): same output format.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f rps=%.0f requests=%d errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout))
end
