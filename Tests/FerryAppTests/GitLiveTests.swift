import Foundation
import SupersetKit
import Testing
import VaporTesting

@testable import FerryApp

/// The git history end to end against the two real Supersets and the real git server of
/// scripts/test (`git http-backend` behind basic auth on loopback).
///
/// A private probe dashboard on dev (see `BackupLiveTests.makeProbe`): backup -> commit; a chart
/// changed in dev -> drift shown -> snapshot -> the diff names the field; the first revision
/// deployed to prod and verified; pushed to the remote; a conflicting commit on the remote and in
/// Ferry -> push refused, pull asks per file -> the remote's version kept -> push.
@Suite(.serialized, .enabled(if: LiveSuperset.enabled && GitServer.enabled, "needs the real Supersets and git server of scripts/test"))
struct GitLiveTests {
    @Test(arguments: Store.available)
    func backupDriftSnapshotDiffDeployPushConflictPull(store: Store) async throws {
        let devURL = try LiveSuperset.url("dev"), prodURL = try LiveSuperset.url("prod")
        let dev = PromotionLiveTests.client(devURL), prod = PromotionLiveTests.client(prodURL)
        let probe = try await BackupLiveTests.makeProbe(on: dev, manifest: try LiveSuperset.manifest("dev"))
        defer { Task { await BackupLiveTests.cleanUp(probe, on: dev); await BackupLiveTests.cleanUp(probe, on: prod) } }
        let chartIDs = try await dev.idsByUUID(.chart)
        let chartID = try #require(chartIDs[probe.charts[0]])
        let originalName = "Probe chart 1 \(probe.suffix)"

        // A live diff exports from Superset inside the request: under the whole suite's load that
        // can take longer than the tests' default 5 s interactive timeout.
        try await withFerry(store, tasks: true, configure: { $0.interactiveTimeout = 30 }) { t in
            _ = try await t.createEnvironment(sample("dev", password: "admin", url: devURL))
            _ = try await t.createEnvironment(sample("prod", password: "admin", url: prodURL, stage: "prod"))
            let q = "environment=dev&dashboard=\(probe.dashboard)"

            // 1. A backup commits dev's state; the probe's history has that one revision.
            let first = try await t.backup("dev")
            let firstSHA = try #require(first.summary["git"]?["commit"]?.stringValue, "\(first.summary)")
            let history1 = try await t.gitJSON(GitHistoryDTO.self, "/api/git/history?\(q)")
            #expect(history1.revisions.map(\.sha) == [firstSHA])
            #expect(history1.revisions.first?.taskId == first.task.id && history1.revisions.first?.author == TestAdmin.username)
            #expect(history1.revisions.first?.summary.hasPrefix("dev: ") == true)
            #expect(history1.dashboard.drift == "in_sync" && history1.dashboard.path?.hasSuffix("backup-probe-\(probe.suffix)") == true)

            // 2. A chart changed in dev: the drift check finds the dashboard, the live diff names the field.
            try await dev.sendJSON("PUT", "/api/v1/chart/\(chartID)", body: .map(["slice_name": .string("\(originalName) v2")]))
            let drift = try await t.queue("/api/git/drift", ["environment": "dev"])
            #expect(drift.status == .succeeded, "\(drift.error ?? "")")
            #expect((drift.result?["changed"]?.intValue ?? 0) >= 1)
            let changed = try await t.request(.GET, "/api/git/dashboards?environment=dev&drift=changed").json()["items"]?.listValue ?? []
            #expect(changed.contains { $0["uuid"]?.stringValue == probe.dashboard }, "\(changed)")
            let live = try await t.gitJSON(GitDiffDTO.self, "/api/git/diff?\(q)")
            #expect(live.to.revision == nil && live.from.revision == firstSHA)
            #expect(live.files.contains { $0.kind == .chart && $0.status == .added && $0.name == "\(originalName) v2" }, "\(live.files.map(\.path))")

            // 3. A snapshot commits it; the diff between the two revisions names the changed field.
            let snap = try await t.queue("/api/git/snapshot", ["environment": "dev"])
            #expect(snap.status == .succeeded, "\(snap.error ?? "")")
            let secondSHA = try #require(snap.result?["git"]?["commit"]?.stringValue)
            let history2 = try await t.gitJSON(GitHistoryDTO.self, "/api/git/history?\(q)")
            #expect(history2.revisions.map(\.sha) == [secondSHA, firstSHA])
            #expect(history2.revisions[0].summary.contains(probe.title), "\(history2.revisions[0].summary)")
            let diff = try await t.gitJSON(GitDiffDTO.self, "/api/git/diff?\(q)&from=\(firstSHA)&to=\(secondSHA.prefix(12))")
            let sliceName = diff.files.flatMap { f in f.fields.filter { $0.field == "slice_name" } }
            #expect(sliceName.contains { $0.old == originalName } && sliceName.contains { $0.new == "\(originalName) v2" }, "\(diff.files)")
            #expect(diff.unified.contains("+slice_name: \(originalName) v2"))
            let synced = try await t.request(.GET, "/api/git/dashboards?environment=dev&drift=in_sync").json()["items"]?.listValue ?? []
            #expect(synced.contains { $0["uuid"]?.stringValue == probe.dashboard }, "the snapshot brings it back in sync")

            // 4. The first revision deployed to prod through the promotion pipeline, and verified.
            let devSales = try #require(try await dev.databaseRefs().first { $0.name == "Sales" })
            let prodSales = try #require(try await prod.databaseRefs().first { $0.name == "Sales" })
            let mapped = try await t.request(.PUT, "/api/mappings", json: MappingInput(
                source: "dev", target: "prod", sourceDatabaseUuid: devSales.uuid, sourceDatabaseName: "Sales",
                targetDatabaseUuid: prodSales.uuid, targetDatabaseName: "Sales"))
            #expect(mapped.status == .ok, "\(mapped.body.string)")
            let deploy = try await t.request(.POST, "/api/git/deploy", json: DeployInput(revision: String(firstSHA.prefix(10)), source: "dev", target: "prod",
                                                                                          dashboards: ["backup-probe-\(probe.suffix)"]))
            #expect(deploy.status == .accepted, "\(deploy.body.string)")
            let plan = try await t.finishedPlan(try deploy.content.decode(Queued.self, using: JSONDecoder.ferry))
            #expect(plan.status == .ready && plan.sourceRevision == firstSHA, "\(plan.error ?? "")")
            #expect(plan.items.contains { $0.kind == .dashboard && $0.uuid == probe.dashboard && $0.action == .create })
            let applied = try await t.apply(plan.id, acceptShared: true)
            let appliedTask = try await t.waitFor(applied.taskId, [.succeeded, .partial, .failed])
            let report = try await t.request(.GET, "/api/promotions/\(applied.id)").json()["report"]
            #expect(appliedTask.status == .succeeded, "\(appliedTask.error ?? "") \(report?.jsonText() ?? "")")
            #expect(report?["passed"]?.boolValue == true && report?["chartsChecked"]?.intValue == probe.charts.count)
            let prodChart = try #require(try await prod.idsByUUID(.chart)[probe.charts[0]])
            #expect(try await prod.getJSON("/api/v1/chart/\(prodChart)")["result"]?["slice_name"]?.stringValue == originalName, "the first revision's name")
            // The promotion committed prod's new state; dev and prod now differ by that chart's name.
            let prodHistory = try await t.gitJSON(GitHistoryDTO.self, "/api/git/history?environment=prod&dashboard=\(probe.dashboard)")
            #expect(prodHistory.revisions.first?.taskId == applied.taskId, "\(prodHistory.revisions)")
            let across = try await t.gitJSON(GitDiffDTO.self, "/api/git/diff?\(q)&toEnvironment=prod")
            #expect(across.from.environment == "dev" && across.to.environment == "prod")
            #expect(across.files.contains { $0.kind == .chart && $0.name == originalName }, "\(across.files.map(\.path))")

            // 5. The remote: push; then a conflicting commit on each side.
            let branch = "test-\(store.rawValue)-\(probe.suffix)"
            let remote = try await t.request(.PUT, "/api/git/remote", json: GitRemoteInput(url: GitServer.url, auth: .token, username: GitServer.user,
                                                                                           branch: branch, pushAfterCommit: false, secret: GitServer.token))
            #expect(remote.status == .ok, "\(remote.body.string)")
            let pushed = try await t.queue("/api/git/push", [:])
            #expect(pushed.status == .succeeded, "\(pushed.error ?? "")")
            let localHead = try #require(try await t.app.gitHistory.repository.head())
            #expect(try GitServer.remoteHead(branch) == localHead)

            let chartFile = try #require(diff.files.first { $0.kind == .chart && $0.status == .added }?.path)
            let path = "\(history2.dashboard.path!)/\(chartFile)"
            try GitServer.commitOnRemote(branch: branch, path: path) { text in
                text.replacingOccurrences(of: "description: null", with: "description: edited on the remote")
            }
            try await dev.sendJSON("PUT", "/api/v1/chart/\(chartID)", body: .map(["description": .string("edited in Superset")]))
            let third = try await t.queue("/api/git/snapshot", ["environment": "dev"])
            #expect(third.status == .succeeded && third.result?["git"]?["commit"]?.stringValue != nil, "\(third.error ?? "") \(third.result?.jsonText() ?? "")")
            let ferryHead = try #require(try await t.app.gitHistory.repository.head())

            let refused = try await t.queue("/api/git/push", [:])
            #expect(refused.status == .failed && refused.error?.contains("has commits Ferry doesn't have") == true, "\(refused.error ?? "")")
            #expect(try await t.app.gitHistory.repository.head() == ferryHead, "the local history is intact")

            let pull = try await t.queueOnly("/api/git/pull", [:])
            let waiting = try await t.waitFor(pull, [.awaitingInput, .failed, .succeeded])
            #expect(waiting.status == .awaitingInput, "\(waiting.error ?? "")")
            let fields = waiting.inputRequest?["schema"]?["properties"]?.mapValue ?? [:]
            #expect(fields["file0"]?["title"]?.stringValue == path, "\(fields)")
            let answered = try await t.request(.POST, "/api/tasks/\(pull)/input", json: BundleValue.map(["file0": .string("remote")]))
            #expect(answered.status == .ok || answered.status == .accepted, "\(answered.body.string)")
            let merged = try await t.waitFor(pull, [.succeeded, .failed])
            #expect(merged.status == .succeeded && merged.result?["result"]?.stringValue == "merged", "\(merged.error ?? "")")
            let repo = t.app.gitHistory.repository
            let head = try #require(try await repo.head())
            let text = String(decoding: try #require(try await repo.read([path], at: head)[path]), as: UTF8.self)
            #expect(text.contains("edited on the remote") && !text.contains("edited in Superset"), "the remote's version was kept")
            #expect(try await repo.git(["merge-base", "--is-ancestor", ferryHead, head], allow: [1]).status == 0, "Ferry's commit is kept in the history")
            let again = try await t.queue("/api/git/push", [:])
            #expect(again.status == .succeeded, "\(again.error ?? "")")
            #expect(try GitServer.remoteHead(branch) == head)

            // 6. A remote tree with a dot-file (rules that would change what git records) is refused.
            try GitServer.commitOnRemote(branch: branch, path: ".gitignore") { _ in "dev/\n" }
            let dotted = try await t.queue("/api/git/pull", [:])
            #expect(dotted.status == .failed && dotted.error?.contains(".gitignore") == true, "\(dotted.error ?? "")")
            #expect(try await repo.head() == head)

            // 7. Faults: wrong credentials, an unreachable remote: clear errors, history intact.
            let wrong = try await t.request(.PUT, "/api/git/remote", json: GitRemoteInput(secret: "not-the-token"))
            #expect(wrong.status == .ok, "\(wrong.body.string)")
            let denied = try await t.queue("/api/git/push", [:])
            #expect(denied.status == .failed && denied.error?.contains("refused Ferry's credentials") == true, "\(denied.error ?? "")")
            #expect(denied.error?.contains("not-the-token") == false)
            let closed = try await t.request(.PUT, "/api/git/remote", json: GitRemoteInput(url: "http://127.0.0.1:9/ferry.git", secret: GitServer.token))
            #expect(closed.status == .ok, "\(closed.body.string)")
            let down = try await t.queue("/api/git/push", [:])
            #expect(down.status == .failed && down.error?.contains("can't be reached") == true, "\(down.error ?? "")")
            #expect(try await repo.head() == head, "the local history is intact")
            let logs = try await t.logs(down.id).items.map(\.message).joined(separator: "\n")
            #expect(!logs.contains(GitServer.token), "the token is never logged")
        }
    }
}

/// The git server scripts/test starts (tests/harness/git_server.py).
enum GitServer {
    static let environment = ProcessInfo.processInfo.environment
    static var enabled: Bool { environment["FERRY_TEST_GIT_URL"] != nil }
    static var url: String { environment["FERRY_TEST_GIT_URL"] ?? "" }
    static var user: String { environment["FERRY_TEST_GIT_USER"] ?? "" }
    static var token: String { environment["FERRY_TEST_GIT_TOKEN"] ?? "" }
    static var bare: String { environment["FERRY_TEST_GIT_BARE"] ?? "" }

    @discardableResult
    static func git(_ args: [String], in dir: String? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = args
        if let dir { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
        p.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
                         "GIT_AUTHOR_NAME": "Remote Reviewer", "GIT_AUTHOR_EMAIL": "reviewer@example.com",
                         "GIT_COMMITTER_NAME": "Remote Reviewer", "GIT_COMMITTER_EMAIL": "reviewer@example.com"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TaskFailure("git \(args.joined(separator: " ")) failed", next: "") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func remoteHead(_ branch: String) throws -> String { try git(["--git-dir", bare, "rev-parse", "refs/heads/\(branch)"]) }

    /// A reviewer's commit straight into the bare repository (a clone on disk, edit, push).
    static func commitOnRemote(branch: String, path: String, edit: (String) -> String) throws {
        let dir = NSTemporaryDirectory() + "ferry-remote-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try git(["clone", "-q", "--branch", branch, bare, dir])
        let file = URL(fileURLWithPath: dir).appendingPathComponent(path)
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try edit(text).write(to: file, atomically: true, encoding: .utf8)
        try git(["add", "-A"], in: dir)
        try git(["commit", "-q", "-m", "Reviewer: edit \(path)"], in: dir)
        try git(["push", "-q", "origin", branch], in: dir)
    }
}

extension TestHarness {
    /// GETs a git API answer, failing with the problem's text when it is one.
    func gitJSON<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
        let res = try await request(.GET, path)
        try #require(res.status == .ok, "\(path): \(res.status) \(res.body.string)")
        return try res.content.decode(type, using: JSONDecoder.ferry)
    }

    /// POSTs to a git endpoint that queues a task, and waits for it.
    func queue(_ path: String, _ body: [String: String]) async throws -> TaskDTO {
        try await waitFor(try await queueOnly(path, body), [.succeeded, .failed, .partial, .awaitingInput])
    }

    func queueOnly(_ path: String, _ body: [String: String]) async throws -> UUID {
        let res = try await request(.POST, path, json: body)
        #expect(res.status == .accepted, "\(path): \(res.body.string)")
        return try #require(try res.json()["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
    }
}
