import Foundation
import SupersetKit
import Vapor

/// `ferry restore --backup ID --to stage [--dashboard UUID,...] [--dry-run]`: puts a backup,
/// whole or in part, into an environment through a running Ferry's API. A restore is a promotion
/// whose source is the backup: the same plan, mappings, apply, verification and rollback.
///
/// Prints the plan as a table, then a progress bar while applying. Exit codes as `ferry promote`:
/// 0 done (or a clean dry run), 1 failed, 2 the plan has conflicts, 3 applied but verification
/// failed (partial), 4 a database needs a mapping (map it, then run again), 64 bad usage.
struct RestoreCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "backup", help: "The backup's id (see ferry backup list)") var backup: String?
        @Option(name: "to", help: "Target environment") var to: String?
        @Option(name: "dashboard", help: "Only these dashboards (uuids, comma-separated), with what they use") var dashboard: String?
        @Option(name: "chart", help: "Only these charts (uuids, comma-separated), with what they use") var chart: String?
        @Option(name: "dataset", help: "Only these datasets (uuids, comma-separated), with their connections") var dataset: String?
        @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        @Option(name: "map", help: "Database mappings to store first, by name: SOURCE=TARGET[,SOURCE=TARGET...] (SOURCE on the backup's environment)") var map: String?
        @Flag(name: "dry-run", help: "Plan and print the plan; write nothing") var dryRun: Bool
        @Flag(name: "accept-shared", help: "Accept updates of charts or datasets other target dashboards use") var acceptShared: Bool
        @Flag(name: "accept-losses", help: "Accept the values a target on an older Superset can't import (the plan lists them)") var acceptLosses: Bool
        @Flag(name: "accept-unknown-version", help: "Import as is into a Superset release Ferry doesn't know (older than 4.1 or newer than it knows)") var acceptUnknownVersion: Bool
    }
    var help: String { "Restore a backup, whole or some of its assets, into an environment (plan, apply, verify)." }

    static let usage = "Usage: ferry restore --backup ID --to ENV [--dashboard UUID[,UUID...]] [--chart ...] [--dataset ...] [--map SOURCE=TARGET] [--dry-run] [--accept-shared] [--accept-losses] [--accept-unknown-version]"

    func run(using context: CommandContext, signature: Signature) async throws {
        let console = context.console
        guard let backup = signature.backup, !backup.isEmpty, let to = signature.to, !to.isEmpty else {
            console.error(Self.usage)
            throw ExitCode(64)
        }
        var body: [String: BundleValue] = ["backup": .string(backup), "target": .string(to), "acceptUnknownVersion": .bool(signature.acceptUnknownVersion)]
        for (key, option, value) in [("dashboards", "dashboard", signature.dashboard), ("charts", "chart", signature.chart), ("datasets", "dataset", signature.dataset)] {
            guard let value else { continue }
            let uuids = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            // An empty list would read as "nothing chosen", which restores the whole backup.
            guard !uuids.isEmpty else {
                console.error("--\(option) needs at least one uuid.\n\(Self.usage)")
                throw ExitCode(64)
            }
            body[key] = .list(uuids.map(BundleValue.string))
        }
        let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
        if let map = signature.map {
            // The mapping's source is the environment the backup was taken of.
            let b = try await api.send("GET", "/api/backups/\(FerryAPIClient.pathSegment(backup))", nil, console: console)
            let name = b["environment"]?.stringValue ?? ""
            let safe = !name.isEmpty && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
            let source: String? = safe ? name : b["environmentId"]?.stringValue
            guard let source else {
                console.error("Backup \(backup) names no environment to map from; store the mapping with PUT /api/mappings instead.")
                throw ExitCode(1)
            }
            try await PromoteCommand.storeMappings(map, from: source, to: to, api: api, console: console)
        }
        let queued = try await api.send("POST", "/api/restores", .map(body), console: console)
        guard let planID = queued["id"]?.stringValue, let planTask = queued["taskId"]?.stringValue else {
            console.error("Ferry accepted the restore but sent no plan or task id: \(queued.jsonText().prefix(300))")
            throw ExitCode(1)
        }
        console.print("Planning the restore of backup \(backup) to \(to) (task \(planTask))...")
        try await PlanApplyFlow.run(planID: planID, planTask: planTask, noun: "Restore", dryRun: signature.dryRun,
                                    acceptShared: signature.acceptShared, acceptLosses: signature.acceptLosses, api: api, console: console)
    }
}
