import Fluent
import Foundation
import SupersetKit
import Testing

@testable import FerryApp

/// The git history without Superset: canonical files written from backup entries, commits only
/// when something changed, history, structured diffs, the bundle a deploy reads back, lock
/// recovery and input validation. The real git CLI on a temporary repository, both stores.
@Suite struct GitHistoryTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SupersetKitTests/Fixtures/dashboard_export.zip")

    /// Stores every asset of `bundle` as a backup would and returns the manifest entries.
    static func entries(_ bundle: AssetBundle, storage: BackupStorage, changedOn: String = "2026-12-01T10:00:00.000000") throws -> [BackupManifest.Entry] {
        try AssetKind.allCases.flatMap { kind in
            try bundle.all(kind).map { asset in
                let r = try storage.put(try asset.withoutSecrets.fileData())
                return BackupManifest.Entry(kind: kind, uuid: asset.uuid, name: asset.name, hash: r.hash, size: r.size, changedOn: nil,
                                            changedOnText: changedOn, refs: asset.references)
            }
        }
    }

    static func env(_ t: TestHarness) async throws -> EnvironmentRef {
        let dto = try await t.createEnvironment(sample("dev"))
        return EnvironmentRef(id: dto.id, name: dto.name, stage: dto.stage)
    }

    @Test(arguments: Store.available)
    func commitsCanonicalFilesOnlyWhenSomethingChangedAndReadsThemBack(store: Store) async throws {
        try await withFerry(store) { t in
            let git = t.app.gitHistory
            _ = try await git.repository.prepare()
            try git.storage.prepare()
            let env = try await Self.env(t)
            let bundle = try BundleReader().read(try Data(contentsOf: Self.fixture))
            let dashboard = try #require(bundle.dashboards.first)
            var entries = try Self.entries(bundle, storage: git.storage)

            // 1. The first commit writes the whole environment.
            let first = try await git.commit(environment: env, assets: entries, author: GitAuthor(startedBy: "ada"), taskID: UUID(), now: Date(), on: t.app.db)
            let firstSHA = try #require(first.sha)
            #expect(first.added == bundle.dashboards.map(\.name).sorted(), "\(first.message)")
            let row = try #require(try await GitHistory.row(environment: env.id, dashboard: dashboard.uuid, on: t.app.db))
            #expect(row.dir.hasPrefix("dev/dashboards/") && row.commitSHA == firstSHA && row.drift == GitDriftStatus.inSync.rawValue)
            let files = try await git.files(environment: env.id, dashboard: dashboard.uuid, dir: row.dir, at: firstSHA, on: t.app.db)
            #expect(files.keys.contains("dashboard.yaml"))
            #expect(files.keys.filter { $0.hasPrefix("charts/") }.count == bundle.charts.count)
            #expect(files.keys.contains { $0.hasPrefix("datasets/") })
            let yaml = String(decoding: try #require(files["dashboard.yaml"]), as: UTF8.self)
            #expect(!yaml.contains("chartId"), "canonical: no instance ids in the layout")
            #expect(!yaml.contains("version: 1.0.0"))
            let databases = try await git.repository.files(at: firstSHA, under: "dev/databases/")
            #expect(databases.count == bundle.databases.count && !databases.isEmpty)
            let revisions = try await git.history(of: row, limit: 10, skip: 0)
            #expect(revisions.count == 1 && revisions[0].author == "ada" && revisions[0].taskID != nil)

            // 2. The same state again: no commit.
            let again = try await git.commit(environment: env, assets: entries, author: GitAuthor(startedBy: "scheduler:Nightly"), taskID: nil, now: Date(), on: t.app.db)
            #expect(again.sha == nil)

            // 3. One chart renamed: one dashboard changed, named in the message; the diff names the field.
            let firstChart = try #require(dashboard.chartUUIDsInLayout.first)
            var chart = try #require(bundle.asset(.chart, uuid: firstChart))
            chart.name = "Renamed chart"
            var changed = bundle
            changed.insert(chart)
            entries = try Self.entries(changed, storage: git.storage, changedOn: "2026-12-01T11:00:00.000000")
            let second = try await git.commit(environment: env, assets: entries, author: GitAuthor(startedBy: "bob"), taskID: nil, now: Date(), on: t.app.db)
            let secondSHA = try #require(second.sha)
            let using = bundle.dashboards.filter { $0.chartUUIDsInLayout.contains(chart.uuid) }.map(\.name).sorted()
            #expect(second.changed == using && using.contains(dashboard.name), "\(second.message)")
            #expect(second.message.hasPrefix("dev: \(using.count) dashboard\(using.count == 1 ? "" : "s") changed: \(using.joined(separator: ", "))"), "\(second.message)")
            let history = try await git.history(of: row, limit: 10, skip: 0)
            #expect(history.map(\.sha) == [secondSHA, firstSHA])
            let old = try await git.files(environment: env.id, dashboard: dashboard.uuid, dir: row.dir, at: firstSHA, on: t.app.db)
            let new = try await git.files(environment: env.id, dashboard: dashboard.uuid, dir: row.dir, at: secondSHA, on: t.app.db)
            let diff = try await git.compare(old, new, oldLabel: "old", newLabel: "new")
            let fields = diff.files.flatMap { f in f.fields.map { "\(f.kind.rawValue) \($0.field)" } }
            #expect(fields.contains("chart slice_name"), "\(fields)")
            #expect(diff.files.contains { $0.status == .added } && diff.files.contains { $0.status == .removed }, "a renamed chart's file moves")
            #expect(diff.unified.contains("+slice_name: Renamed chart"), "\(diff.unified.prefix(2000))")

            // 4. A deploy reads the revision back as an importable, closed bundle.
            let deployable = try await git.bundle(environment: env.id, dashboards: [dashboard.uuid], at: firstSHA, on: t.app.db)
            #expect(deployable.unresolvedReferences().isEmpty, "\(deployable.unresolvedReferences())")
            let back = try #require(deployable.dashboards.first)
            #expect(CanonicalAsset.fields(of: back) == CanonicalAsset.fields(of: dashboard), "canonical -> importable -> canonical is the identity")
            #expect(back.chartUUIDsInLayout.sorted() == dashboard.chartUUIDsInLayout.sorted())
            #expect(CanonicalAsset.chartUUIDs(in: back).count == Set(dashboard.chartUUIDsInLayout).count, "every chart has a stand-in id")
            #expect(deployable.charts.allSatisfy { $0.string("query_context") != nil || bundle.asset(.chart, uuid: $0.uuid)?.string("query_context") == nil })
            #expect(deployable.charts.map(\.name).sorted() == bundle.charts.map(\.name).sorted(), "the first revision has the old chart name")

            // 5. The dashboard deleted in Superset leaves the folder; its history stays.
            let third = try await git.commit(environment: env, assets: entries.filter { $0.uuid != dashboard.uuid }, author: GitAuthor(startedBy: "bob"),
                                             taskID: nil, now: Date(), on: t.app.db)
            #expect(third.removed == [dashboard.name], "\(third.message)")
            #expect(try await GitHistory.row(environment: env.id, dashboard: dashboard.uuid, on: t.app.db) == nil)
            #expect(try await git.repository.log(path: row.dir, limit: 10).count == 3)
        }
    }

    /// git's words decide the message: a rejected push whose commit ids happen to hold "401" is
    /// a rejection, not a credentials problem (seen once in a fresh-clone run).
    @Test func aRejectedPushIsNamedSoWhateverItsCommitIdsHold() {
        func explained(_ stderr: String) -> String {
            GitRemoteStore.explain(GitOutput(status: 1, stdout: Data(), stderr: Data(stderr.utf8)), action: "push", url: "http://git.test/r.git").message
        }
        let rejected = """
            To http://git.test/r.git
             ! [rejected]        main -> main (fetch first)
            error: failed to push some refs to 'http://git.test/r.git' (e4013ab..9403c21)
            """
        #expect(explained(rejected).contains("has commits Ferry doesn't have"))
        #expect(explained("fatal: Authentication failed for 'http://git.test/r.git/'").contains("refused Ferry's credentials"))
        #expect(explained("fatal: unable to access 'http://git.test/r.git/': The requested URL returned error: 403").contains("refused Ferry's credentials"))
    }

    @Test func recoversAStaleIndexLockButNeverOneInUse() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-git-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let repo = GitRepository(root: dir)
        _ = try await repo.prepare()
        try Data("a\n".utf8).write(to: dir.appendingPathComponent("a.txt"))
        _ = try await repo.stage(["a.txt"])
        let sha = try await repo.commit(message: "first", author: GitAuthor(startedBy: "ada"), trailers: [])
        let lock = dir.appendingPathComponent(".git/index.lock")

        // Held by a running Ferry (the repository lock): left alone.
        try Data().write(to: lock)
        let held = try #require(try RepositoryLock.acquire(at: dir.appendingPathComponent(".git/ferry.lock"), wait: false))
        #expect(try await repo.recover().isEmpty)
        #expect(FileManager.default.fileExists(atPath: lock.path))
        held.release()

        // Fresh (a killed Ferry's git child may still be finishing): left alone too.
        #expect(try await repo.recover().isEmpty)
        #expect(FileManager.default.fileExists(atPath: lock.path))
        // Left by a killed process long enough ago: removed at the next start; history intact, commits work.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: lock.path)
        let cleaned = try await repo.prepare()
        #expect(cleaned == ["index.lock"])
        #expect(!FileManager.default.fileExists(atPath: lock.path))
        #expect(try await repo.head() == sha)
        try Data("b\n".utf8).write(to: dir.appendingPathComponent("a.txt"))
        #expect(try await repo.stage(["a.txt"]) == [GitChange(kind: .modified, path: "a.txt")])
        _ = try await repo.commit(message: "second", author: GitAuthor(startedBy: "ada"), trailers: [("Ferry-Task", "x")])
        #expect(try await repo.log(path: nil, limit: 10).count == 2)
    }

    @Test func refusesRevisionsRemotesAndBranchesThatCouldInjectOptions() async throws {
        for bad in ["-n", "--output=/tmp/x", "main..HEAD", "HEAD@{1}", "HEAD^", "abc", ":/secret", "../x", "HEAD~-1", String(repeating: "a", count: 65)] {
            #expect(!GitRepository.isRevision(bad), "\(bad)")
        }
        for good in ["HEAD", "HEAD~3", "1a2b", String(repeating: "f", count: 40)] { #expect(GitRepository.isRevision(good), "\(good)") }

        for (url, auth) in [("ext::sh -c touch% /tmp/pwned", GitRemoteAuth.none), ("file:///etc", .none), ("/srv/repo.git", .none),
                            ("-oProxyCommand=touch /tmp/x", .ssh), ("https://user:pw@git.example.com/x.git", .token),
                            ("https://git.example.com/x.git", .ssh), ("git@host:team/x.git", .token), ("git://host/x.git", .none),
                            ("http://git.example.com/x.git", .token)] {
            #expect(GitRemoteStore.problem(url: url, auth: auth) != nil, "\(url)")
        }
        for (url, auth) in [("https://git.example.com/team/ferry.git", GitRemoteAuth.token), ("ssh://git@host:2222/x.git", .ssh),
                            ("git@host:team/x.git", .ssh), ("http://127.0.0.1:8080/ferry.git", .none)] {
            #expect(GitRemoteStore.problem(url: url, auth: auth) == nil, "\(url)")
        }
        for bad in ["-f", "main..x", ".hidden", "a b", "x.lock", "", "refs/heads//x"] { #expect(!GitRemoteStore.isBranchName(bad), "\(bad)") }
        #expect(GitRemoteStore.isBranchName("main") && GitRemoteStore.isBranchName("ferry/history"))

        // Names from Superset can't leave their folder.
        for name in ["../../etc", "..", ".", "/abs", "a/b", "", "😀"] {
            let s = GitLayout.slug(name)
            #expect(!s.contains("/") && s != "." && s != ".." && !s.isEmpty, "\(name) -> \(s)")
        }
    }

    @Test(arguments: Store.available)
    func remoteSettingsKeepTheSecretSealedAndNeverReturnIt(store: Store) async throws {
        try await withFerry(store) { t in
            let res = try await t.request(.PUT, "/api/git/remote", json: GitRemoteInput(url: "https://git.example.com/team/ferry.git", auth: .token,
                                                                                          username: "ferry", branch: "main", pushAfterCommit: true, secret: "tok-123-secret"))
            #expect(res.status == .ok, "\(res.body.string)")
            #expect(!res.body.string.contains("tok-123-secret"))
            let shown = try await t.request(.GET, "/api/git/remote").json()
            #expect(shown["hasSecret"]?.boolValue == true && shown["url"]?.stringValue == "https://git.example.com/team/ferry.git")
            let row = try #require(try await SettingModel.query(on: t.app.db).filter(\.$key == GitRemoteStore.settingsKey).first())
            #expect(!row.value.contains("tok-123-secret"), "sealed at rest")
            // A new host without a new token: 422, nothing saved.
            let moved = try await t.request(.PUT, "/api/git/remote", json: GitRemoteInput(url: "https://evil.example.com/x.git"))
            #expect(moved.status == .unprocessableEntity, "\(moved.body.string)")
            #expect(try await t.request(.GET, "/api/git/remote").json()["url"]?.stringValue == "https://git.example.com/team/ferry.git")
            let injected = try await t.request(.PUT, "/api/git/remote", json: GitRemoteInput(url: "ext::sh -c id", auth: GitRemoteAuth.none))
            #expect(injected.status == .unprocessableEntity)
            let badRevision = try await t.request(.GET, "/api/git/diff?environment=nope&dashboard=x&from=--output=/tmp/x")
            #expect(badRevision.status == .unprocessableEntity)
        }
    }
}
