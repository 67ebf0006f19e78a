import Fluent
import Foundation
import SupersetKit

/// `git.drift`: compares an environment's dashboards in Superset with what Ferry last committed
/// of them, by the `changed_on` of each dashboard and of its charts and datasets (one listing,
/// no export). Stores the result on each dashboard's `git_dashboards` row, which the dashboards
/// hub shows; dashboards with no row are "never committed".
struct GitDriftPlugin: Plugin {
    let id = "git.drift"
    let name = "Check git drift"
    let description = "Finds the dashboards changed in Superset since their last commit to Ferry's git history, and those never committed."
    let version = "1.0.0"
    let permission = Permission.gitWrite.rawValue
    let paramsSchema = JSONSchema(json: #"""
        {"type": "object", "required": ["environment"], "additionalProperties": false,
         "properties": {"environment": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The environment to check"}}}
        """#)

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let env = try await context.environment("environment")
        try await context.step(key: "reading_assets", ["environment": env.name], progress: 10)
        let client = try await context.superset(env.id)
        let listed = try await BackupRunPlugin.list(client)
        var changedOn: [String: String?] = [:]
        for kind in [AssetKind.dashboard, .chart, .dataset] {
            for row in listed[kind] ?? [] { changedOn[row.uuid] = row.changedOn }
        }
        try await context.step(key: "comparing_git", progress: 70)
        let rows = try await GitDashboardModel.query(on: context.db).filter(\.$environmentID == env.id).all()
        let now = context.now()
        var changed: [String] = [], inSync = 0, gone = 0
        for row in rows {
            let members = (try? JSONDecoder().decode([String].self, from: Data(row.members.utf8))) ?? []
            guard changedOn[row.dashboardUUID] != nil else { gone += 1; continue }  // deleted since: the next commit removes it
            let uuids = [row.dashboardUUID] + members
            let live = GitHistory.changedKey(uuids.map { ($0, changedOn[$0] ?? nil) })
            let status: GitDriftStatus = live == row.changedKey ? .inSync : .changed
            if status == .changed { changed.append(row.title); context.log(.info, "changed since its last commit: '\(row.title)'", source: "git", metadata: ["dashboard": row.dashboardUUID]) }
            else { inSync += 1 }
            if row.drift != status.rawValue || row.checkedAt == nil || now.timeIntervalSince(row.checkedAt!) > 60 {
                row.drift = status.rawValue
                row.checkedAt = now
                try await row.save(on: context.db)
            }
        }
        let committed = Set(rows.map(\.dashboardUUID))
        let never = (listed[.dashboard] ?? []).filter { !committed.contains($0.uuid) }.count
        context.log(.info, "\(inSync) in sync, \(changed.count) changed since their last commit, \(never) never committed", source: "git")
        try await context.step(key: "drift_checked", progress: 100)
        return .succeeded(.map([
            "environment": .string(env.id.key), "inSync": .int(inSync), "changed": .int(changed.count), "uncommitted": .int(never),
            "deleted": .int(gone), "changedDashboards": .list(changed.sorted().prefix(100).map(BundleValue.string)),
        ]))
    }
}
