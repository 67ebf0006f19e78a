import Foundation
import SupersetKit

/// `git.snapshot`: records an environment's state in the git history now. It is a backup (only
/// what changed since the last one is exported) that must end in a commit: a git failure fails
/// the task here, where a scheduled backup only warns.
struct GitSnapshotPlugin: Plugin {
    let id = "git.snapshot"
    let name = "Snapshot to git"
    let description = "Backs the environment up and commits its dashboards, charts, datasets and connections (never passwords) to Ferry's git history."
    let version = "1.0.0"
    let permission = Permission.gitWrite.rawValue
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["environment"], "additionalProperties": false,
         "properties": {"environment": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The environment to snapshot"}}}
        """#)
    let backup: BackupRunPlugin

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let env = try await context.environment("environment")
        let (row, manifest, _, _) = try await backup.backUp(env, context)
        let commit = try await backup.commitToGit(env, manifest: manifest, context, required: true) ?? .null
        try await context.step(key: "snapshot_committed", progress: 100)
        return .succeeded(.map(["environment": .string(env.id.key), "backup": .string(row.id!.key), "git": commit]))
    }
}
