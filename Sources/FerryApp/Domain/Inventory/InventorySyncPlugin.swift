import Fluent
import Foundation
import SupersetKit

/// Built-in: copies one environment's dashboards, charts, datasets and databases into Ferry's
/// inventory, which search answers from. `SyncCoordinator` starts it when an environment is
/// added, on demand, and every `FERRY_SYNC_INTERVAL`; as a task it has a log, counts against
/// the environment's limit, and survives a restart (it is resumable: it starts over).
struct InventorySyncPlugin: Plugin {
    static let pluginID = "inventory.sync"
    let id = InventorySyncPlugin.pluginID
    let name = "Inventory sync"
    let description = "Reads an environment's dashboards, charts, datasets and databases into Ferry's search."
    let version = "1.0.0"
    let permission = "tasks:run"
    let resumable = true
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["environment"], "additionalProperties": false,
         "properties": {"environment": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The environment (id or name)"}}}
        """#)
    /// Called when a sync ends, however it ends (the search index reloads).
    let onFinish: @Sendable () -> Void

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        defer { onFinish() }
        let env = try await context.environment("environment")
        let envID = env.id, name = env.name
        let client = try await context.superset(envID)
        let outcome = try await InventorySync.run(
            environmentID: envID, client: client, on: context.db, now: context.now, newID: context.newID, logger: context.logger,
            step: { kind, i in try await context.step(key: "listing", ["kinds": kind.rawValue + "s"], progress: 10 + i * 20) },
            note: { context.log(.warning, $0, source: "superset_api") })
        for kind in AssetKind.allCases {
            context.log(.info, "\(outcome.counts[kind.rawValue] ?? 0) \(kind.rawValue)s", source: "superset_api")
        }
        return .succeeded(.map(["environment": .string(name), "counts": .map(outcome.counts.mapValues { .int($0) })]))
    }
}
