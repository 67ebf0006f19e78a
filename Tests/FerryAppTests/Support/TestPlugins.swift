import Foundation
import SupersetKit

@testable import FerryApp

/// Counts runs per task and the most tasks running at once per environment.
final class RunRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [UUID: Int] = [:]
    private var current: [String: Int] = [:]
    private(set) var peak: [String: Int] = [:]
    private var nodes: [UUID: String] = [:]

    func enter(_ id: UUID, env: String?) {
        lock.withLock {
            runs[id, default: 0] += 1
            if let env {
                current[env, default: 0] += 1
                peak[env] = max(peak[env] ?? 0, current[env]!)
            }
        }
    }

    func leave(env: String?) { lock.withLock { if let env { current[env, default: 1] -= 1 } } }
    var runCounts: [UUID: Int] { lock.withLock { runs } }
    var peaks: [String: Int] { lock.withLock { peak } }
}

/// A plugin for engine tests: steps with a delay, logs, optional failure or partial result,
/// optional input request.
struct ScriptPlugin: Plugin {
    let id: String
    let name = "Test script"
    let description = "Engine test plugin"
    let version = "0.0.1"
    let permission = "tasks:run"
    var resumable = false
    let recorder: RunRecorder
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "additionalProperties": false, "properties": {
          "environment": {"type": "string"},
          "steps": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 3},
          "delayMs": {"type": "integer", "minimum": 0, "default": 0},
          "linesPerStep": {"type": "integer", "minimum": 0, "default": 1},
          "fail": {"type": "boolean", "default": false},
          "partial": {"type": "boolean", "default": false},
          "askInput": {"type": "boolean", "default": false},
          "inputTimeoutMs": {"type": "integer", "minimum": 1, "default": 5000},
          "token": {"type": "string", "writeOnly": true}}}
        """#)

    init(id: String = "test.script", recorder: RunRecorder = RunRecorder(), resumable: Bool = false) {
        self.id = id
        self.recorder = recorder
        self.resumable = resumable
    }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let p = context.params
        let env = p["environment"]?.stringValue
        recorder.enter(context.taskID, env: env)
        defer { recorder.leave(env: env) }
        let steps = p["steps"]?.intValue ?? 3
        let delay = p["delayMs"]?.intValue ?? 0
        let lines = p["linesPerStep"]?.intValue ?? 1
        var received = 0
        if p["askInput"]?.boolValue == true {
            let answer = try await context.awaitInput(
                prompt: "Password for the Warehouse connection",
                schema: JSONSchema(json: #"{"type":"object","required":["password"],"additionalProperties":false,"properties":{"password":{"type":"string","minLength":3,"writeOnly":true}}}"#),
                timeout: Double(p["inputTimeoutMs"]?.intValue ?? 5000) / 1000)
            received = answer["password"]?.stringValue?.count ?? -1
        }
        for i in 0..<steps {
            try await context.step("step \(i + 1) of \(steps)", progress: steps == 0 ? 100 : (i + 1) * 100 / steps)
            for j in 0..<lines {
                context.log(j % 10 == 9 ? .warning : .info, "line \(j) of step \(i + 1)", source: j % 2 == 0 ? "bundle" : "superset_api")
            }
            if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000) }
        }
        if p["fail"]?.boolValue == true {
            throw TaskFailure("The target refused the bundle", next: "Fix the target and run again")
        }
        let summary = BundleValue.map(["steps": .int(steps), "inputLength": .int(received), "hadToken": .bool(p["token"] != nil)])
        return p["partial"]?.boolValue == true ? .partial(summary) : .succeeded(summary)
    }
}
