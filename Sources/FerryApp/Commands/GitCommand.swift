import Foundation
import SupersetKit
import Vapor

/// `ferry git log|diff|snapshot|drift|push|pull`: Ferry's git history of every environment's
/// dashboards from the shell or a CI job, through a running Ferry's API (`/api/git/…`), as
/// `ferry backup` does: the tasks run as Ferry's, under the token's user.
///
/// Exit codes: 0 done, 1 failed (Ferry unreachable, refused, or the task failed), 4 `pull` waits
/// for an answer on its task page (files changed both in Ferry and on the remote), 64 bad usage.
struct GitCommand: AsyncCommandGroup {
    var help: String { "Ferry's git history of dashboards: log, diff, snapshot, drift check, push, pull (through Ferry's API)." }
    var commands: [String: any AnyAsyncCommand] {
        ["log": Log(), "diff": Diff(), "snapshot": Snapshot(), "drift": Drift(), "push": Push(), "pull": Pull()]
    }

    /// `ferry git log --env prod --dashboard sales-overview [--limit N]`: a dashboard's
    /// revisions, newest first.
    struct Log: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "environment", help: "The dashboard's environment, by name or id (also --env)") var env: String?
            @Option(name: "dashboard", help: "The dashboard, by uuid, slug or title") var dashboard: String?
            @Option(name: "limit", help: "At most this many revisions (default 20)") var limit: Int?
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        }
        var help: String { "A dashboard's revisions, newest first: sha, date, author, summary and the task that made each." }

        static let usage = "Usage: ferry git log --env ENV --dashboard DASHBOARD [--limit N] [--server URL]"

        func run(using context: CommandContext, signature: Signature) async throws {
            let console = context.console
            guard let env = signature.env, !env.isEmpty, let dashboard = signature.dashboard, !dashboard.isEmpty else {
                console.error(Self.usage)
                throw ExitCode(64)
            }
            let limit = signature.limit ?? 20
            guard (1...100_000).contains(limit) else {
                console.error("--limit must be between 1 and 100000.\n\(Self.usage)")
                throw ExitCode(64)
            }
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            let perPage = min(limit, 200)
            var revisions: [BundleValue] = []
            var seen = Set<String>()
            var heading = "\(dashboard) in \(env)"
            for page in 1...10_000 {
                let path = "/api/git/history?environment=\(FerryAPIClient.queryValue(env))&dashboard=\(FerryAPIClient.queryValue(dashboard))"
                    + "&page=\(page)&per_page=\(perPage)"
                let answer = try await BackupCommand.failing { try await api.send("GET", path, nil, console: console) }
                if let title = answer["dashboard"]?["title"]?.stringValue {
                    heading = "\(title) in \(answer["dashboard"]?["environment"]?.stringValue ?? env)"
                    if let folder = answer["dashboard"]?["path"]?.stringValue, !folder.isEmpty { heading += " (\(folder))" }
                }
                let got = answer["revisions"]?.listValue ?? []
                // A server that ignored `page` would send the same page forever: stop at a repeat.
                let fresh = got.filter { seen.insert($0["sha"]?.stringValue ?? UUID().uuidString).inserted }
                revisions += fresh
                if got.count < perPage || fresh.isEmpty || revisions.count >= limit { break }
            }
            revisions = Array(revisions.prefix(limit))
            if revisions.isEmpty {
                console.print("No revisions of \(heading). Commit it with: ferry git snapshot --env \(env)")
                return
            }
            console.print(heading)
            let rows = revisions.map { r -> [String] in
                let sha = r["shortSha"]?.stringValue ?? String((r["sha"]?.stringValue ?? "").prefix(12))
                var summary = r["summary"]?.stringValue ?? ""
                if summary.count > 72 { summary = String(summary.prefix(71)) + "…" }
                return [sha, BackupCommand.shortDate(r["date"]?.stringValue), r["author"]?.stringValue ?? "", summary,
                        (r["taskId"]?.stringValue ?? "").lowercased()]
            }
            let header = ["SHA", "DATE (UTC)", "AUTHOR", "SUMMARY", "TASK"]
            for line in BackupCommand.table(header, rows) { console.print(line) }
        }
    }

    /// `ferry git diff [REV1 [REV2]] --env dev --dashboard sales-overview [--to-env prod] [--unified]`:
    /// two states of a dashboard, field by field (or as a unified diff). REV is a sha, HEAD,
    /// HEAD~n or `live` (Superset now); by default the last commit against live.
    struct Diff: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "environment", help: "The dashboard's environment, where REV1 is read (also --env)") var env: String?
            @Option(name: "dashboard", help: "The dashboard, by uuid, slug or title") var dashboard: String?
            @Option(name: "to-env", help: "Read REV2 in this environment instead (default: the same)") var toEnv: String?
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
            @Flag(name: "unified", help: "Print a unified diff of the files instead of the changed fields") var unified: Bool
        }
        var help: String {
            "Compare two states of a dashboard: ferry git diff REV1 REV2 (a sha, HEAD, HEAD~n or live; default HEAD live)."
        }

        static let usage = "Usage: ferry git diff [REV1 [REV2]] --env ENV --dashboard DASHBOARD [--to-env ENV] [--unified] [--server URL]"

        /// The optional positional revisions: ConsoleKit's `@Argument` is always required, so the
        /// signature takes the options and what is left are the revisions.
        func run(using context: inout CommandContext) async throws {
            let signature = try Signature(from: &context.input)
            let rest = context.input.arguments
            if let problem = GitCommand.leftoverProblem(rest, options: ["environment", "dashboard", "to-env", "server"], live: true) {
                context.console.error("\(problem)\n\(Self.usage)")
                throw ExitCode(64)
            }
            guard rest.count <= 2 else {
                context.console.error(Self.usage)
                throw ExitCode(64)
            }
            context.input.arguments = []
            try await diff(rest, context: context, signature: signature)
        }

        func run(using context: CommandContext, signature: Signature) async throws {
            try await diff([], context: context, signature: signature)
        }

        private func diff(_ revisions: [String], context: CommandContext, signature: Signature) async throws {
            let console = context.console
            guard let env = signature.env, !env.isEmpty, let dashboard = signature.dashboard, !dashboard.isEmpty else {
                console.error(Self.usage)
                throw ExitCode(64)
            }
            var query = "environment=\(FerryAPIClient.queryValue(env))&dashboard=\(FerryAPIClient.queryValue(dashboard))"
            for (name, revision) in zip(["from", "to"], revisions) {
                if let problem = GitCommand.revisionProblem(revision, live: true) {
                    console.error(problem)
                    throw ExitCode(64)
                }
                query += "&\(name)=\(FerryAPIClient.queryValue(revision))"
            }
            if let other = signature.toEnv, !other.isEmpty { query += "&toEnvironment=\(FerryAPIClient.queryValue(other))" }
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            let path = "/api/git/diff?" + query
            let answer = try await BackupCommand.failing { try await api.send("GET", path, nil, console: console) }
            if signature.unified {
                var text = answer["unified"]?.stringValue ?? ""
                if text.hasSuffix("\n") { text.removeLast() }
                if !text.isEmpty { console.print(text) }
                return
            }
            for line in Self.lines(answer) { console.print(line) }
        }

        /// A `GitDiffDTO` for people: a heading, then `file: field: old → new` for each changed
        /// field (a value of several lines below its field, indented); an added or removed
        /// file in one line (`--unified` shows its content).
        static func lines(_ diff: BundleValue) -> [String] {
            let title = diff["title"]?.stringValue ?? diff["dashboard"]?.stringValue ?? "?"
            var out = ["\(title): \(diff["from"]?["label"]?.stringValue ?? "?") → \(diff["to"]?["label"]?.stringValue ?? "?")"]
            let files = diff["files"]?.listValue ?? []
            if files.isEmpty {
                out.append("No differences.")
                return out
            }
            for file in files {
                let path = file["path"]?.stringValue ?? "?"
                let status = file["status"]?.stringValue ?? "changed"
                let fields = file["fields"]?.listValue ?? []
                if status != "changed" || fields.isEmpty {
                    let what = [file["kind"]?.stringValue, file["name"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                    out.append("\(path): \(status)" + (what.isEmpty ? "" : " (\(what))"))
                    continue
                }
                for f in fields {
                    let field = f["field"]?.stringValue ?? "?"
                    let old = f["old"]?.stringValue
                    let new = f["new"]?.stringValue
                    if (old ?? "").contains("\n") || (new ?? "").contains("\n") {
                        out.append("\(path): \(field):")
                        out += indented(old)
                        out.append("  →")
                        out += indented(new)
                    } else {
                        out.append("\(path): \(field): \(shown(old)) → \(shown(new))")
                    }
                }
            }
            out.append("\(files.count) file(s) differ.")
            return out
        }

        private static func shown(_ value: String?) -> String {
            guard let value else { return "(absent)" }
            return value.isEmpty ? "\"\"" : value
        }

        private static func indented(_ value: String?) -> [String] {
            guard let value else { return ["    (absent)"] }
            return value.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + String($0) }
        }
    }

    /// `ferry git snapshot --env dev`: commits the environment's dashboards now (a backup that
    /// must end in a commit), waits with a progress bar, prints the commit.
    struct Snapshot: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "environment", help: "The environment to snapshot, by name or id (also --env)") var env: String?
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        }
        var help: String { "Commit an environment's dashboards to Ferry's git history now; waits and prints the commit." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let console = context.console
            guard let env = signature.env, !env.isEmpty else {
                console.error("Usage: ferry git snapshot --env ENV [--server URL]")
                throw ExitCode(64)
            }
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            let (task, done) = try await GitCommand.runTask("/api/git/snapshot", body: .map(["environment": .string(env)]), what: "snapshot",
                                                            doing: "Snapshotting \(env)", api: api, console: console)
            try await GitCommand.requireSuccess(done, task: task, what: "Snapshot", api: api, console: console)
            let s = BackupCommand.summary(of: done)
            let git = s["git"]
            if let commit = git?["commit"]?.stringValue {
                console.print("Committed \(env) as \(commit.prefix(12)): \(git?["changed"]?.intValue ?? 0) dashboard(s) changed, "
                              + "\(git?["added"]?.intValue ?? 0) added, \(git?["removed"]?.intValue ?? 0) removed.")
            } else {
                console.print("Nothing to commit: \(env)'s dashboards are as last committed.")
            }
            if let backup = s["backup"]?.stringValue { console.print("Backup \(backup).") }
            if git?["pushed"]?.boolValue == true {
                console.print("Pushed to the remote.")
            } else if git?["pushed"]?.boolValue == false {
                console.error("The push to the remote failed: \(git?["pushError"]?.stringValue ?? "?")\nThe commit is kept; push it later with: ferry git push")
            }
        }
    }

    /// `ferry git drift --env dev`: which dashboards Superset changed since their last commit,
    /// and which were never committed.
    struct Drift: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "environment", help: "The environment to check, by name or id (also --env)") var env: String?
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        }
        var help: String { "Check which dashboards changed in Superset since their last commit to Ferry's git history." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let console = context.console
            guard let env = signature.env, !env.isEmpty else {
                console.error("Usage: ferry git drift --env ENV [--server URL]")
                throw ExitCode(64)
            }
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            let (task, done) = try await GitCommand.runTask("/api/git/drift", body: .map(["environment": .string(env)]), what: "drift check",
                                                            doing: "Checking \(env) for drift", api: api, console: console)
            try await GitCommand.requireSuccess(done, task: task, what: "Drift check", api: api, console: console)
            let s = BackupCommand.summary(of: done)
            let changed = s["changed"]?.intValue ?? 0
            let uncommitted = s["uncommitted"]?.intValue ?? 0
            let deleted = s["deleted"]?.intValue ?? 0
            console.print("\(env): \(BackupCommand.count(s["inSync"]?.intValue ?? 0)) in sync, \(BackupCommand.count(changed)) changed since their last commit, "
                          + "\(BackupCommand.count(uncommitted)) never committed" + (deleted > 0 ? ", \(BackupCommand.count(deleted)) deleted from Superset." : "."))
            let names = (s["changedDashboards"]?.listValue ?? []).compactMap(\.stringValue)
            for name in names { console.print("  changed  \(name)") }
            if changed > names.count { console.print("  ... and \(changed - names.count) more") }
            if changed + uncommitted + deleted > 0 {
                console.print("Commit them with: ferry git snapshot --env \(env)")
            }
        }
    }

    /// `ferry git push`: pushes Ferry's history to the remote's branch (never forced).
    struct Push: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        }
        var help: String { "Push Ferry's git history to the configured remote (never forced)." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let console = context.console
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            let (task, done) = try await GitCommand.runTask("/api/git/push", body: nil, what: "push", doing: "Pushing Ferry's git history",
                                                            api: api, console: console)
            try await GitCommand.requireSuccess(done, task: task, what: "Push", api: api, console: console)
            let s = BackupCommand.summary(of: done)
            console.print("Pushed \((s["commit"]?.stringValue ?? "?").prefix(12)) to the remote's branch \(s["branch"]?.stringValue ?? "?").")
        }
    }

    /// `ferry git pull`: fetches and merges the remote's commits. When both sides changed the
    /// same files the task waits for an answer: the command prints the question and the task's
    /// page, and exits 4 (the task keeps waiting; nothing is merged until it is answered).
    struct Pull: AsyncCommand {
        struct Signature: CommandSignature {
            @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        }
        var help: String { "Pull the remote's commits into Ferry's git history (conflicting files are settled on the task page)." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let console = context.console
            let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
            let (task, done) = try await GitCommand.runTask("/api/git/pull", body: nil, what: "pull", doing: "Pulling from the remote",
                                                            api: api, console: console)
            if done["status"]?.stringValue == "awaiting_input" {
                let request = done["inputRequest"]
                console.error(request?["prompt"]?.stringValue ?? "The pull is waiting for an answer.")
                for file in GitCommand.conflictingFiles(request) { console.error("  \(file)") }
                let page = api.base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/tasks/\(task)"
                var waits = "Answer on the task page: \(page) (or POST /api/tasks/\(task)/input)."
                if let deadline = done["inputDeadline"]?.stringValue, !deadline.isEmpty {
                    waits += " It waits until \(BackupCommand.shortDate(deadline)) UTC."
                }
                console.error(waits + " Nothing is merged until then.")
                throw ExitCode(4)
            }
            try await GitCommand.requireSuccess(done, task: task, what: "Pull", api: api, console: console)
            let s = BackupCommand.summary(of: done)
            let commit = String((s["commit"]?.stringValue ?? "?").prefix(12))
            switch s["result"]?.stringValue {
            case "remote_empty": console.print("The remote has no branch yet: nothing to pull. ferry git push creates it.")
            case "up_to_date": console.print("Already up to date.")
            case "fast_forward": console.print("Fast-forwarded to \(commit).")
            case "merged":
                let resolved = s["resolved"]?.intValue ?? 0
                console.print("Merged the remote's commits as \(commit)" + (resolved > 0 ? " (\(resolved) conflicting file(s) settled)." : "."))
            case "aborted": console.print("Aborted: nothing was merged; the remote's commits stay fetched.")
            default: console.print("Pulled (\(s.jsonText().prefix(200))).")
            }
        }
    }

    // MARK: - Helpers

    /// POSTs a task endpoint and waits for the task with a progress bar, as `ferry backup run`.
    static func runTask(_ path: String, body: BundleValue?, what: String, doing: String, api: FerryAPIClient,
                        console: any Console) async throws -> (task: String, done: BundleValue) {
        let queued = try await BackupCommand.failing { try await api.send("POST", path, body, console: console) }
        guard let task = queued["taskId"]?.stringValue else {
            console.error("Ferry accepted the \(what) but sent no task id: \(queued.jsonText().prefix(300))")
            throw ExitCode(1)
        }
        console.print("\(doing) (task \(task))...")
        let done = try await api.wait(task: task, console: console, bar: true)
        return (task, done)
    }

    /// Exit 1 with the task's error and next action unless it succeeded. A task waiting for
    /// input it was never expected to ask for is cancelled (it would hold its environments).
    static func requireSuccess(_ done: BundleValue, task: String, what: String, api: FerryAPIClient, console: any Console) async throws {
        guard done["status"]?.stringValue != "succeeded" else { return }
        if done["status"]?.stringValue == "awaiting_input" {
            _ = try? await api.send("POST", "/api/tasks/\(task)/cancel", nil, console: console)
        }
        console.error(BackupCommand.failure(what, done))
        throw ExitCode(1)
    }

    /// The files a waiting pull asks about, from its input schema (`file0`, `file1`... titled
    /// with their paths, or one `all` choice for many).
    static func conflictingFiles(_ request: BundleValue?) -> [String] {
        let properties = request?["schema"]?["properties"]?.mapValue ?? [:]
        if let all = properties["all"]?["title"]?.stringValue { return [all] }
        return properties.keys.filter { $0.hasPrefix("file") }
            .sorted { (Int($0.dropFirst(4)) ?? 0) < (Int($1.dropFirst(4)) ?? 0) }
            .compactMap { properties[$0]?["title"]?.stringValue }
    }

    /// Why a revision given on the command line can't be one, or nil. Git would read a leading
    /// '-' as an option; the server refuses such a revision too, this says so before asking.
    static func revisionProblem(_ revision: String, live: Bool) -> String? {
        guard revision.hasPrefix("-") else { return nil }
        return "'\(revision)' isn't a revision: a revision is a commit sha (see ferry git log), HEAD or HEAD~n"
            + (live ? " or live" : "") + ", and never begins with '-'."
    }

    /// What ConsoleKit left unparsed, explained: an option whose value began with '-' (ConsoleKit
    /// leaves both behind), a revision beginning with '-', or an unknown option. Nil when every
    /// leftover is a plain word.
    static func leftoverProblem(_ leftover: [String], options: Set<String>, live: Bool) -> String? {
        for (i, word) in leftover.enumerated() where word.hasPrefix("-") {
            let name = String(word.drop(while: { $0 == "-" }))
            if word.hasPrefix("--"), options.contains(name) {
                let shown = name == "environment" ? "--env" : word
                guard i + 1 < leftover.count else { return "\(shown) needs a value." }
                if leftover[i + 1].hasPrefix("-") { return "\(shown) \(leftover[i + 1]): a value can't begin with '-'." }
                return "\(shown) is given more than once."
            }
            if word.hasPrefix("--") { return "Unknown option \(word)." }
            return revisionProblem(word, live: live)
        }
        return nil
    }
}
