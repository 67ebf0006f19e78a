import Foundation
import SupersetKit

/// Built-in: checks one environment end to end. Logs in, reads the version, counts each kind of
/// asset and measures API latency, reporting per step.
struct HealthCheckPlugin: Plugin {
    static let pluginID = "environment.health_check"
    let id = HealthCheckPlugin.pluginID
    let name = "Environment health check"
    let description = "Logs in to an environment's Superset, counts its assets and measures API latency."
    let version = "1.0.0"
    let permission = "environments:read"
    let resumable = true
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["environment"], "additionalProperties": false,
         "properties": {
           "environment": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The environment (id or name)"},
           "latencySamples": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5, "description": "How many list calls to time"}}}
        """#)

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let env = try await context.environment("environment")
        let environment = env.name
        let samples = context.params["latencySamples"]?.intValue ?? 5
        try await context.step(key: "logging_in", ["environment": environment], progress: 5)
        let client = try await context.superset(env.id)
        let probe = try await client.probe()
        context.log(.info, "Superset \(probe.version); login and CSRF work", source: "superset_api",
                    metadata: ["version": probe.version, "latency_ms": String(probe.latencyMilliseconds)])
        var counts: [String: BundleValue] = [:]
        for (i, kind) in AssetKind.allCases.enumerated() {
            try await context.step(key: "counting", ["kinds": kind.rawValue + "s"], progress: 20 + i * 15)
            let rows = try await client.list(kind)
            counts[kind.rawValue] = .int(rows.count)
            context.log(.info, "\(rows.count) \(kind.rawValue)s", source: "superset_api")
        }
        try await context.step(key: "measuring_latency", progress: 85)
        var timings: [Double] = []
        for _ in 0..<samples {
            try Task.checkCancellation()
            let started = Date()
            _ = try await client.getJSON("/api/v1/dashboard/", query: "q=(page:0,page_size:1)")
            timings.append(Date().timeIntervalSince(started) * 1000)
        }
        timings.sort()
        let median = timings[timings.count / 2]
        let worst = timings.last ?? 0
        context.log(.info, String(format: "API latency: median %.0f ms, worst %.0f ms over %d calls", median, worst, samples), source: "superset_api")
        try await context.step(key: "done", progress: 100)
        return .succeeded(.map([
            "environment": .string(environment), "version": .string(probe.version), "counts": .map(counts),
            "latencyMs": .map(["median": .int(Int(median.rounded())), "max": .int(Int(worst.rounded())), "samples": .int(samples)]),
        ]))
    }
}
