import AsyncHTTPClient
import Foundation
import SupersetKit
import Vapor

/// `ferry promote --from dev --to prod --dashboard sales-overview [--dry-run]`: a promotion from
/// a CI pipeline, through a running Ferry's API (so it shares its tasks, mappings and history).
///
/// Prints the plan as a table, then a progress bar while applying. Exit codes: 0 done (or a
/// clean dry run), 1 failed, 2 the plan has conflicts, 3 applied but verification failed
/// (partial), 4 a database needs a mapping (map it, then run again), 64 bad usage.
struct PromoteCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "from", help: "Source environment") var from: String?
        @Option(name: "to", help: "Target environment") var to: String?
        @Option(name: "dashboard", help: "Dashboards by id, uuid or slug, comma-separated") var dashboard: String?
        @Option(name: "search", help: "Also every dashboard whose title or slug contains this") var search: String?
        @Option(name: "scope", help: "dashboards (default) or cascade") var scope: String?
        @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        @Option(name: "map", help: "Database mappings to store first, by name: SOURCE=TARGET[,SOURCE=TARGET...]") var map: String?
        @Flag(name: "dry-run", help: "Plan and print the plan; write nothing") var dryRun: Bool
        @Flag(name: "accept-shared", help: "Accept updates of charts or datasets other target dashboards use") var acceptShared: Bool
        @Flag(name: "accept-losses", help: "Accept the values a target on an older Superset can't import (the plan lists them)") var acceptLosses: Bool
        @Flag(name: "accept-unknown-version", help: "Import as is into a Superset release Ferry doesn't know (older than 4.1 or newer than it knows)") var acceptUnknownVersion: Bool
    }
    var help: String { "Promote dashboards from one environment to another (plan, apply, verify)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let env = ProcessInfo.processInfo.environment
        guard let from = signature.from, let to = signature.to, signature.dashboard != nil || signature.search != nil else {
            context.console.error("Usage: ferry promote --from ENV --to ENV --dashboard SLUG[,SLUG...] [--scope cascade] [--dry-run]")
            throw ExitCode(64)
        }
        guard let base = URL(string: signature.server ?? env["FERRY_URL"] ?? "http://127.0.0.1:8080"), base.host != nil else {
            context.console.error("--server must be Ferry's URL, e.g. http://127.0.0.1:8080")
            throw ExitCode(64)
        }
        let api = FerryAPIClient(base: base, token: env["FERRY_TOKEN"])
        if let map = signature.map {
            try await Self.storeMappings(map, from: from, to: to, api: api, console: context.console)
        }
        let dashboards = (signature.dashboard ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let queued = try await api.send("POST", "/api/promotions/plan", .map([
            "source": .string(from), "target": .string(to), "dashboards": .list(dashboards.map(BundleValue.string)),
            "search": signature.search.map(BundleValue.string) ?? .null, "scope": .string(signature.scope ?? "dashboards"),
            "acceptUnknownVersion": .bool(signature.acceptUnknownVersion),
        ]), console: context.console)
        guard let planID = queued["id"]?.stringValue, let planTask = queued["taskId"]?.stringValue else { throw ExitCode(1) }
        context.console.print("Planning \(from) -> \(to) (task \(planTask))...")
        try await PlanApplyFlow.run(planID: planID, planTask: planTask, noun: "Promotion", dryRun: signature.dryRun,
                                    acceptShared: signature.acceptShared, acceptLosses: signature.acceptLosses, api: api, console: context.console)
    }

    /// Stores `SOURCE=TARGET` mappings (connection names) through the suggestions endpoint,
    /// which knows both sides' uuids.
    static func storeMappings(_ spec: String, from: String, to: String, api: FerryAPIClient, console: any Console) async throws {
        let rows = try await api.send("GET", "/api/mappings/suggestions?source=\(from)&target=\(to)", nil, console: console)["items"]?.listValue ?? []
        for pair in spec.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2,
                  let row = rows.first(where: { $0["source"]?["name"]?.stringValue == parts[0] }),
                  let target = row["suggestions"]?.listValue?.first(where: { $0["target"]?["name"]?.stringValue == parts[1] })?["target"] else {
                console.error("--map \(pair): no source database '\(parts.first ?? "")' on \(from) or no connection '\(parts.last ?? "")' on \(to)")
                throw ExitCode(64)
            }
            _ = try await api.send("PUT", "/api/mappings", .map([
                "source": .string(from), "target": .string(to),
                "sourceDatabaseUuid": row["source"]?["uuid"] ?? .null, "sourceDatabaseName": .string(parts[0]),
                "targetDatabaseUuid": target["uuid"] ?? .null, "targetDatabaseName": .string(parts[1]),
            ]), console: console)
            console.print("Mapped \(parts[0]) -> \(parts[1]).")
        }
    }

    static func printPlan(_ plan: BundleValue, console: any Console) {
        let rows = (plan["items"]?.listValue ?? []).map { item -> [String] in
            let losses = (item["losses"]?.listValue ?? []).map { "loses \($0["field"]?.stringValue ?? "") = \($0["value"]?.stringValue ?? "")" }
            let defaulted = (item["defaulted"]?.listValue ?? []).compactMap(\.stringValue)
            return [item["action"]?.stringValue ?? "", item["kind"]?.stringValue ?? "", item["name"]?.stringValue ?? "",
                    ((item["reasons"]?.listValue ?? []).compactMap(\.stringValue) + losses
                        + (defaulted.isEmpty ? [] : ["takes the target's defaults for " + defaulted.joined(separator: ", ")])).joined(separator: "; ")]
        }
        let header = ["ACTION", "KIND", "NAME", "WHY"]
        let widths = (0..<3).map { i in min(40, ([header] + rows).map { $0[i].count }.max() ?? 0) }
        func line(_ r: [String]) -> String {
            (0..<3).map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + r[3]
        }
        console.print(line(header))
        for r in rows { console.print(line(r)) }
        let s = plan["summary"]
        console.print("\(s?["create"]?.intValue ?? 0) create, \(s?["update"]?.intValue ?? 0) update, \(s?["unchanged"]?.intValue ?? 0) unchanged, \(s?["conflict"]?.intValue ?? 0) conflict, \(s?["lost"]?.intValue ?? 0) value(s) lost")
        if let from = plan["sourceVersion"]?.stringValue, let to = plan["targetVersion"]?.stringValue {
            console.print("Superset \(from) -> \(to)" + (plan["versionChange"]?.stringValue.map { " (\($0.replacingOccurrences(of: "_", with: " ")))" } ?? ""))
        }
    }
}

/// A minimal client of Ferry's own API for the CLI.
struct FerryAPIClient: Sendable {
    let base: URL
    let token: String?
    /// On AsyncHTTPClient's process-wide client, which needs no shutdown.
    let transport = AsyncHTTPClientTransport(shared: (HTTPClient.shared, HTTPClient.shared))

    func send(_ method: String, _ path: String, _ body: BundleValue?, console: any Console) async throws -> BundleValue {
        var headers = [("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response: SupersetKit.HTTPResponse
        // A name with spaces or other specials (an environment "Prod EU") is percent-encoded, never a crash.
        let text = base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path
        guard let url = URL(string: text) ?? URL(string: text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "") else {
            console.error("\(path) can't be made into a URL; check the names given.")
            throw ExitCode(64)
        }
        do {
            response = try await transport.send(SupersetKit.HTTPRequest(
                method: method, url: url, headers: headers, body: body.map { Data($0.jsonText().utf8) }, timeout: 30))
        } catch {
            console.error("Ferry at \(base.absoluteString) can't be reached (\(error)). Start it with `ferry serve` or pass --server.")
            throw ExitCode(1)
        }
        let json = (try? BundleValue.parseJSON(response.body)) ?? .null
        guard (200..<300).contains(response.status) else {
            console.error("\(method) \(path): HTTP \(response.status): \(json["detail"]?.stringValue ?? String(decoding: response.body.prefix(300), as: UTF8.self))")
            throw ExitCode(response.status == 409 ? 2 : 1)
        }
        return json
    }

    /// Polls a task until it ends or waits for input; draws a progress bar when asked.
    func wait(task: String, console: any Console, bar: Bool) async throws -> BundleValue {
        var lastStep = ""
        while true {
            let t = try await send("GET", "/api/tasks/\(task)", nil, console: console)
            let status = t["status"]?.stringValue ?? ""
            if bar {
                let p = t["progress"]?.intValue ?? 0
                let filled = p * 30 / 100
                let step = t["step"]?.stringValue ?? ""
                if step != lastStep || ["succeeded", "failed", "partial", "cancelled", "interrupted"].contains(status) {
                    FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] \(p)% \(step.prefix(60))\u{1B}[K".utf8))
                    lastStep = step
                }
            }
            if ["succeeded", "failed", "partial", "cancelled", "interrupted", "awaiting_input"].contains(status) {
                if bar { FileHandle.standardError.write(Data("\n".utf8)) }
                return t
            }
            try await Task.sleep(nanoseconds: 300_000_000)
        }
    }
}
