import Foundation
import SupersetKit

/// Built-in canary: holds a worker for a number of seconds, logging once a second. Operators use
/// it to see workers, limits, cancellation and restarts behave before trusting real work to them.
struct SleepPlugin: Plugin {
    let id = "diagnostics.sleep"
    let name = "Canary (sleep)"
    let description = "Holds a worker for some seconds, logging each second; touches no Superset."
    let version = "1.0.0"
    let permission = "tasks:run"
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "additionalProperties": false, "properties": {
          "seconds": {"type": "integer", "minimum": 0, "maximum": 3600, "default": 10},
          "logLines": {"type": "integer", "minimum": 0, "maximum": 1000000, "default": 0, "description": "Then write this many log lines, 100 per millisecond (log pipeline load test)"},
          "environment": {"type": "string", "description": "Count against this environment's limit (optional)"}}}
        """#)

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let seconds = context.params["seconds"]?.intValue ?? 10
        for i in 0..<seconds {
            try await context.step(key: "second_of", ["n": String(i + 1), "total": String(seconds)], progress: (i + 1) * 100 / max(seconds, 1))
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        let lines = context.params["logLines"]?.intValue ?? 0
        if lines > 0 { try await context.step(key: "writing_log_lines", ["count": String(lines)], progress: 100) }
        for i in 0..<lines {
            context.log(.info, "line \(i)", source: "plugin", metadata: ["i": String(i)])
            if i % 100 == 99 { try await Task.sleep(nanoseconds: 1_000_000) }
        }
        return .succeeded(.map(["slept": .int(seconds), "logLines": .int(lines)]))
    }
}
