import Foundation
import SupersetKit
import Vapor

/// `ferry backup run|list|verify`: backups from the shell or a CI job, through a running Ferry's
/// API (so they run as its tasks, land in its storage and show in its history).
///
/// Exit codes: 0 done, 1 failed (Ferry unreachable, refused, or the task failed), 3 `verify`
/// found a corrupt backup, 64 bad usage.
struct BackupCommand: AsyncCommandGroup {
    var help: String { "Back up an environment, list its backups, verify them (through Ferry's API)." }
    var commands: [String: any AnyAsyncCommand] {
        ["run": Run(), "list": List(), "verify": Verify()]
    }

    /// `ferry backup run --env prod [--full]`: queues `backup.run`, waits with a progress bar,
    /// prints the backup's id and sizes.
    struct Run: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "environment", help: "The environment to back up, by name or id (also --env)") var env: String?
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
            @Flag(name: "full", help: "Export everything, not only what changed since the last backup") var full: Bool
        }
        var help: String { "Back up an environment; waits for the backup and prints its id." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let console = context.console
            guard let env = signature.env, !env.isEmpty else {
                console.error("Usage: ferry backup run --env ENV [--full] [--server URL]")
                throw ExitCode(64)
            }
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            var fields: [String: BundleValue] = ["environment": .string(env)]
            if signature.full { fields["full"] = .bool(true) }
            let body = BundleValue.map(fields)
            let queued = try await BackupCommand.failing { try await api.send("POST", "/api/backups", body, console: console) }
            guard let task = queued["taskId"]?.stringValue else {
                console.error("Ferry accepted the backup but sent no task id: \(queued.jsonText().prefix(300))")
                throw ExitCode(1)
            }
            console.print("Backing up \(env)\(signature.full ? " (full)" : "") (task \(task))...")
            let done = try await api.wait(task: task, console: console, bar: true)
            guard done["status"]?.stringValue == "succeeded" else {
                if done["status"]?.stringValue == "awaiting_input" {
                    // Not expected from backup.run; a waiting task holds its environment's slot.
                    _ = try? await api.send("POST", "/api/tasks/\(task)/cancel", nil, console: console)
                }
                console.error(BackupCommand.failure("Backup", done))
                throw ExitCode(1)
            }
            let s = BackupCommand.summary(of: done)
            let id = s["backup"]?.stringValue ?? "?"
            let full = s["full"]?.boolValue == true
            console.print("Backup \(id) of \(env): \(BackupCommand.count(s["assets"]?.intValue ?? 0)) assets "
                          + "(\(BackupCommand.count(s["newAssets"]?.intValue ?? 0)) new), "
                          + "\(BackupCommand.bytes(s["totalBytes"]?.intValue ?? 0)) (\(BackupCommand.bytes(s["newBytes"]?.intValue ?? 0)) new), "
                          + (full ? "full." : "incremental."))
        }
    }

    /// `ferry backup list [--env prod]`: every backup, newest first as Ferry returns them.
    struct List: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "environment", help: "Only this environment's backups, by name or id (also --env)") var env: String?
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        }
        var help: String { "List backups (all environments, or one with --env)." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let console = context.console
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            let perPage = 200
            var items: [BundleValue] = []
            var seen = Set<String>()
            var filter = ""
            if let env = signature.env, !env.isEmpty { filter = "&environment=\(FerryAPIClient.queryValue(env))" }
            for page in 1...10_000 {
                let path = "/api/backups?page=\(page)&per_page=\(perPage)" + filter
                let answer = try await BackupCommand.failing { try await api.send("GET", path, nil, console: console) }
                let got = answer["items"]?.listValue ?? []
                // A server that ignored `page` would send the same page forever: stop at a repeat.
                let fresh = got.filter { seen.insert($0["id"]?.stringValue ?? UUID().uuidString).inserted }
                items += fresh
                if got.count < perPage || fresh.isEmpty { break }
            }
            if items.isEmpty {
                console.print(signature.env == nil ? "No backups. Make one with: ferry backup run --env NAME"
                                                   : "No backups of \(signature.env!). Make one with: ferry backup run --env \(signature.env!)")
                return
            }
            let rows = items.map { b -> [String] in
                let c = b["counts"]
                let assets = ["dashboards", "charts", "datasets", "databases"].reduce(0) { $0 + (c?[$1]?.intValue ?? 0) }
                return [(b["id"]?.stringValue ?? "").lowercased(), b["environment"]?.stringValue ?? b["environmentId"]?.stringValue ?? "",
                        BackupCommand.shortDate(b["createdAt"]?.stringValue), BackupCommand.count(assets),
                        BackupCommand.bytes(b["totalBytes"]?.intValue ?? 0), BackupCommand.bytes(b["newBytes"]?.intValue ?? 0),
                        b["verifyStatus"]?.stringValue ?? "", b["pinned"]?.boolValue == true ? "yes" : ""]
            }
            let header = ["ID", "ENVIRONMENT", "CREATED (UTC)", "ASSETS", "SIZE", "NEW", "VERIFIED", "PINNED"]
            for line in BackupCommand.table(header, rows, rightAligned: [3, 4, 5]) { console.print(line) }
        }
    }

    /// `ferry backup verify [ID]`: re-reads one backup (or all), prints each one's status and
    /// problems. Exit 0 all verified, 3 some corrupt, 1 the check itself failed.
    struct Verify: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        }
        var help: String { "Verify a backup (ferry backup verify ID) or every backup (no ID): re-hash its files, check its manifest." }

        /// The optional positional ID: ConsoleKit's `@Argument` is always required, so the
        /// signature takes the options and what is left is the ID.
        func run(using context: inout CommandContext) async throws {
            let signature = try Signature(from: &context.input)
            let rest = context.input.arguments
            guard rest.count <= 1, !rest.contains(where: { $0.hasPrefix("-") }) else {
                context.console.error("Usage: ferry backup verify [BACKUP-ID] [--server URL]")
                throw ExitCode(64)
            }
            context.input.arguments = []
            try await verify(rest.first, context: context, signature: signature)
        }

        func run(using context: CommandContext, signature: Signature) async throws {
            try await verify(nil, context: context, signature: signature)
        }

        private func verify(_ backup: String?, context: CommandContext, signature: Signature) async throws {
            let console = context.console
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            var fields: [String: BundleValue] = [:]
            if let backup { fields["backup"] = .string(backup) }
            let body = BundleValue.map(fields)
            let queued = try await BackupCommand.failing { try await api.send("POST", "/api/backups/verify", body, console: console) }
            guard let task = queued["taskId"]?.stringValue else {
                console.error("Ferry accepted the check but sent no task id: \(queued.jsonText().prefix(300))")
                throw ExitCode(1)
            }
            console.print("Verifying \(backup.map { "backup \($0)" } ?? "every backup") (task \(task))...")
            let done = try await api.wait(task: task, console: console, bar: true)
            let status = done["status"]?.stringValue ?? ""
            guard status == "succeeded" || status == "partial" else {
                console.error(BackupCommand.failure("Verification", done))
                throw ExitCode(1)
            }
            let s = BackupCommand.summary(of: done)
            let backups = s["backups"]?.listValue ?? []
            for b in backups {
                let verified = b["status"]?.stringValue == "verified"
                let label = verified ? "VERIFIED" : (b["status"]?.stringValue ?? "?").uppercased()
                console.print(label.padding(toLength: max(8, label.count), withPad: " ", startingAt: 0) + "  " + (b["backup"]?.stringValue ?? "?"))
                for p in b["problems"]?.listValue ?? [] {
                    console.print("          " + BackupCommand.problem(p))
                }
            }
            let corrupt = s["corrupt"]?.intValue ?? backups.filter { $0["status"]?.stringValue == "corrupt" }.count
            let checked = s["checked"]?.intValue ?? backups.count
            let missing = s["missing"]?.intValue ?? 0
            console.print("\(checked) backup(s) checked: \(checked - corrupt) verified, \(corrupt) corrupt"
                          + (missing > 0 ? ", \(missing) missing" : "") + ".")
            if status == "partial" || corrupt > 0 {
                console.error("A corrupt backup can't be restored in full; restore from a verified one.")
                throw ExitCode(3)
            }
        }
    }

    // MARK: - Helpers shared by the backup and restore commands

    /// Runs an API call whose refusals all mean "failed" (exit 1): `FerryAPIClient.send` exits 2
    /// on HTTP 409, which `ferry promote` reserves for plan conflicts.
    static func failing<T: Sendable>(_ call: () async throws -> T) async throws -> T {
        do { return try await call() } catch let exit as ExitCode where exit.code == 2 { throw ExitCode(1) }
    }

    /// A task's outcome summary. The task API calls it `result`; accept `summary` too.
    static func summary(of task: BundleValue) -> BundleValue {
        for key in ["result", "summary"] {
            if let v = task[key], !v.isNull { return v }
        }
        return .map([:])
    }

    /// "`what` failed: error" and the task's next action, as PromoteCommand prints them.
    static func failure(_ what: String, _ task: BundleValue) -> String {
        let status = task["status"]?.stringValue ?? "?"
        let error = task["error"]?.stringValue ?? (status == "failed" ? "?" : "the task ended \(status)")
        return ["\(what) failed: \(error)", task["nextAction"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    /// One verify problem: `chart Sales by region (uuid): blob missing`.
    static func problem(_ p: BundleValue) -> String {
        var head = [p["kind"]?.stringValue, p["name"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        if let uuid = p["uuid"]?.stringValue, !uuid.isEmpty { head += head.isEmpty ? uuid : " (\(uuid))" }
        let what = p["problem"]?.stringValue ?? "?"
        return head.isEmpty ? what : "\(head): \(what)"
    }

    /// 1234567 -> "1.2 MB" (decimal units, as `ls -h --si` and disk vendors).
    static func bytes(_ n: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(n)
        var unit = 0
        while abs(value) >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// 1234567 -> "1,234,567".
    static func count(_ n: Int) -> String {
        let digits = Array(String(n.magnitude))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return n < 0 ? "-" + out : out
    }

    /// An ISO 8601 time as "2026-12-02 14:05" in UTC; the text unchanged when it doesn't parse.
    static func shortDate(_ iso: String?) -> String {
        guard let iso, !iso.isEmpty else { return "" }
        let parser = ISO8601DateFormatter()
        var date = parser.date(from: iso)
        if date == nil {
            parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            date = parser.date(from: iso)
        }
        guard let date else { return iso }
        let out = DateFormatter()
        out.locale = Locale(identifier: "en_US_POSIX")
        out.timeZone = TimeZone(identifier: "UTC")
        out.dateFormat = "yyyy-MM-dd HH:mm"
        return out.string(from: date)
    }

    /// Rows padded into columns two spaces apart; `rightAligned` columns (numbers) pad on the left.
    static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        return all.map { row in
            var line = header.indices.map { i -> String in
                let cell = i < row.count ? row[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}

extension FerryAPIClient {
    /// The client a CLI command talks through: `--server`, else FERRY_URL, else
    /// http://127.0.0.1:8080; the API token from FERRY_TOKEN. Bad URL: exit 64.
    static func forCommand(server: String?, console: any Console) throws -> FerryAPIClient {
        let env = ProcessInfo.processInfo.environment
        guard let base = URL(string: server ?? env["FERRY_URL"] ?? "http://127.0.0.1:8080"), base.host != nil else {
            console.error("--server must be Ferry's URL, e.g. http://127.0.0.1:8080")
            throw ExitCode(64)
        }
        return FerryAPIClient(base: base, token: env["FERRY_TOKEN"])
    }

    /// `text` safe inside one path segment (`send` builds its URL with `URL(string:)!`).
    static func pathSegment(_ text: String) -> String { PercentEncoding.encode(text) }

    /// `text` safe as one query value.
    static func queryValue(_ text: String) -> String { PercentEncoding.encode(text) }
}
