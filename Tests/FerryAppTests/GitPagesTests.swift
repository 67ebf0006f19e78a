import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// Hand-built models for the git history's views.
enum GitPageFixtures {
    static let fixed = ViewSnapshotTests.fixed
    static let devID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e1")!
    static let prodID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e2")!
    static let taskID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e3")!
    static let dashboard = "11111111-1111-4111-8111-111111111111"
    static let fresh = "77777777-7777-4777-8777-777777777777"
    static let shaA = String(repeating: "a1", count: 20)
    static let shaB = String(repeating: "b2", count: 20)
    /// A title that would break out of text and attributes if it weren't escaped.
    static let hostile = "Sales <script>alert(1)</script>\" onmouseover=\"alert(1)"

    static func row(_ uuid: String, title: String, drift: GitDriftStatus, path: String?, commit: String?) -> GitDashboardDTO {
        GitDashboardDTO(environmentId: devID, environment: "dev", uuid: uuid, title: title, path: path, drift: drift.rawValue, lastCommit: commit,
                        committedAt: commit == nil ? nil : fixed, checkedAt: commit == nil ? nil : fixed.addingTimeInterval(60))
    }

    /// A real Superset export, committed by the HTTP tests.
    static let export = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SupersetKitTests/Fixtures/dashboard_export.zip")

    /// Stores every asset of `bundle` as a backup would and returns the manifest entries.
    static func entries(_ bundle: AssetBundle, storage: BackupStorage, changedOn: String) throws -> [BackupManifest.Entry] {
        try AssetKind.allCases.flatMap { kind in
            try bundle.all(kind).map { asset in
                let r = try storage.put(try asset.withoutSecrets.fileData())
                return BackupManifest.Entry(kind: kind, uuid: asset.uuid, name: asset.name, hash: r.hash, size: r.size, changedOn: nil,
                                            changedOnText: changedOn, refs: asset.references)
            }
        }
    }

    static var overviewModel: GitPage.Model {
        var m = GitPage.Model(selected: devID, drift: "changed", search: "sales", page: 2)
        m.environments = [
            .init(id: devID, name: "dev", stage: "dev", inSync: 12, changed: 1, uncommitted: 2, canWrite: true),
            .init(id: prodID, name: "prod", stage: "prod", inSync: 40, changed: 0, uncommitted: 0, canWrite: false),
        ]
        m.dashboards = [
            row(dashboard, title: hostile, drift: .changed, path: "dev/dashboards/sales-11111111", commit: shaA),
            row(fresh, title: "Fresh board", drift: .uncommitted, path: nil, commit: nil),
        ]
        m.total = 120
        m.remote = GitRemoteDTO(GitRemoteSettings(url: "https://git.example.com/team/ferry.git", auth: .token, username: "ferry", branch: "main",
                                                  pushAfterCommit: true, secretSealed: "sealed-secret-value"))
        m.canPushPull = true
        m.canAdminRemote = true
        m.actionError = "A snapshot of dev is already queued."
        return m
    }

    static var historyModel: GitHistoryPage.Model {
        var m = GitHistoryPage.Model(environmentID: devID, environment: "dev",
                                     dashboard: row(dashboard, title: hostile, drift: .changed, path: "dev/dashboards/sales-11111111", commit: shaB), page: 1)
        m.revisions = [
            GitRevisionDTO(sha: shaB, author: "bob <b>", date: fixed.addingTimeInterval(3600), summary: "dev: 1 dashboard changed: \(hostile)", taskId: taskID),
            GitRevisionDTO(sha: shaA, author: "ada", date: fixed, summary: "dev: 3 dashboards added", taskId: nil),
        ]
        m.hasMore = true
        m.others = [.init(id: prodID, name: "prod")]
        m.canDeploy = true
        m.deployTargets = [.init(id: devID, name: "dev"), .init(id: prodID, name: "prod")]
        m.deploy = .init(revision: shaA, target: prodID.key)
        m.deployErrors = ["revision": "no commit 'abcd' in Ferry's history"]
        m.deployError = "Correct the marked fields and save again."
        return m
    }

    static var diff: GitDiffDTO {
        GitDiffDTO(
            dashboard: dashboard, title: hostile,
            from: GitSideDTO(environmentId: devID, environment: "dev", revision: shaA, label: "dev @ \(shaA.prefix(12))"),
            to: GitSideDTO(environmentId: devID, environment: "dev", revision: nil, label: "dev (live)"),
            identical: false,
            files: [
                GitFileDiff(path: "dashboard.yaml", kind: .dashboard, name: hostile, status: .changed, fields: [
                    GitFieldDiff(field: "dashboard_title", old: "Sales", new: hostile),
                    GitFieldDiff(field: "metadata.native_filter_configuration", old: "[\n  {\n    \"id\": \"f1\"\n  }\n]", new: nil),
                ]),
                GitFileDiff(path: "charts/revenue-22222222.yaml", kind: .chart, name: "Revenue", status: .added, fields: [
                    GitFieldDiff(field: "slice_name", old: nil, new: "Revenue"),
                ]),
                GitFileDiff(path: "datasets/orders-33333333.yaml", kind: .dataset, name: "orders", status: .removed, fields: []),
            ],
            unified: "diff --git dev@a1a1a1a1a1a1/dashboard.yaml dev@live/dashboard.yaml\n-dashboard_title: Sales\n+dashboard_title: <script>alert(1)</script>\n")
    }

    static var remoteModel: GitRemotePage.Model {
        var m = GitRemotePage.Model(form: .init(url: "ext::sh -c id", auth: GitRemoteAuth.none.rawValue, username: "", branch: "main", pushAfterCommit: true),
                                    hasSecret: true, configured: true)
        m.errors = ["url": "must start with https://, http:// or ssh://, or be user@host:path"]
        m.error = "Correct the marked fields and save again."
        return m
    }
}

extension ViewSnapshotTests {
    func occurrences(_ needle: String, in html: String) -> Int { html.components(separatedBy: needle).count - 1 }

    @Test func gitOverview() throws {
        let f = GitPageFixtures.self
        let model = f.overviewModel
        for lang in ["en", "ru"] {
            let html = Layout.render(GitPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/git"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\""))
            #expect(html.contains(#"href="/git" class="active""#), "the Git history navigation item is current")
            try assertSnapshot(html, named: "git-\(lang)")
        }
        let html = Layout.render(GitPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/git"))
        #expect(!html.contains("sealed-secret-value"))
        // Snapshot and drift only where the viewer holds git:write (dev, not prod).
        #expect(occurrences(#"data-testid="git-action-snapshot""#, in: html) == 1)
        #expect(occurrences(#"data-testid="git-action-drift""#, in: html) == 1)
        #expect(html.contains(#"action="/git/action""#) && html.contains(#"name="action" value="snapshot""#))
        #expect(html.contains("name=\"environment\" value=\"\(f.devID.key)\""))
        // Counts link to the filtered list.
        #expect(html.contains("href=\"/git?drift=changed&amp;environment=\(f.devID.key)\" data-testid=\"git-count-changed\">1<"))
        // A committed dashboard links to its history, twice (title and badge); one never committed doesn't.
        let history = "/git/history?dashboard=\(f.dashboard)&amp;environment=\(f.devID.key)"
        #expect(occurrences("href=\"\(history)\"", in: html) == 2)
        #expect(!html.contains("dashboard=\(f.fresh)"))
        #expect(html.contains(#"data-drift="uncommitted""#) && html.contains(#"data-testid="git-drift-badge""#))
        #expect(html.contains(#"<option value="changed" selected>"#))
        #expect(html.contains("Page 2 of 3") && html.contains(#"rel="next""#))
        // The remote, its push and pull, and its settings.
        #expect(html.contains(#"data-testid="git-remote-url">https://git.example.com/team/ferry.git<"#))
        #expect(html.contains(#"data-testid="git-action-push""#) && html.contains(#"data-testid="git-action-pull""#))
        #expect(html.contains(#"href="/git/remote""#))
        #expect(html.contains(#"data-testid="git-action-error""#))

        // A reader: counts and dashboards, no action, no settings; no remote set.
        var reader = model
        reader.environments = reader.environments.map { var e = $0; e.canWrite = false; return e }
        reader.canPushPull = false
        reader.canAdminRemote = false
        reader.remote = nil
        reader.actionError = nil
        let read = Layout.render(GitPage.View(model: reader, localizer: Localizer(language: "en")), context: context("en", path: "/git"))
        #expect(!read.contains("data-testid=\"git-action-"))
        #expect(!read.contains(#"href="/git/remote""#))
        #expect(read.contains(#"data-testid="git-remote-none""#))

        let empty = Layout.render(GitPage.View(model: GitPage.Model(), localizer: Localizer(language: "en")), context: context("en", path: "/git"))
        #expect(empty.contains(#"data-testid="git-no-environments""#))
    }

    @Test func aDashboardsGitHistory() throws {
        let f = GitPageFixtures.self
        let model = f.historyModel
        for lang in ["en", "ru"] {
            let html = Layout.render(GitHistoryPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/git/history"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\"") && !html.contains("bob <b>"))
            try assertSnapshot(html, named: "git-history-\(lang)")
        }
        let html = Layout.render(GitHistoryPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        // The page title carries the dashboard's name: escaped in the head's meta attributes too.
        #expect(html.contains(#"<meta name="twitter:title" content="History of Sales &lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;alert(1) · Ferry"/>"#))
        #expect(occurrences(#"data-testid="git-revision-row""#, in: html) == 2)
        // The newest two are picked for comparison: the older as From, the newer as To.
        #expect(html.contains("name=\"from\" value=\"\(f.shaA)\" checked"))
        #expect(html.contains("name=\"to\" value=\"\(f.shaB)\" checked"))
        #expect(html.contains(#"name="to" value="live""#))
        #expect(html.contains(#"action="/git/diff""#) && html.contains(#"data-testid="git-compare""#))
        // With live: the last commit against Superset now; with prod: both folders' newest commit.
        #expect(html.contains("href=\"/git/diff?dashboard=\(f.dashboard)&amp;environment=\(f.devID.key)&amp;from=\(f.shaB)&amp;to=live\""))
        #expect(html.contains("name=\"toEnvironment\"") && html.contains("<option value=\"\(f.prodID.key)\">prod</option>"))
        #expect(html.contains(#"name="from" value="HEAD""#) && html.contains(#"name="to" value="HEAD""#))
        #expect(html.contains("href=\"/tasks/\(f.taskID.key)\""))
        // The deploy form: the revision and target kept, the refused field marked.
        #expect(html.contains(#"action="/git/deploy""#) && html.contains(#"data-testid="git-deploy-submit""#))
        #expect(html.contains("name=\"source\" value=\"\(f.devID.key)\"") && html.contains("name=\"dashboards\" value=\"\(f.dashboard)\""))
        #expect(html.contains("<option value=\"\(f.shaA)\" selected>"))
        #expect(html.contains("<option value=\"\(f.prodID.key)\" selected>"))
        #expect(html.contains("no commit &#39;abcd&#39; in Ferry") || html.contains("no commit 'abcd' in Ferry"))
        #expect(html.contains(#"data-testid="git-deploy-error""#) && html.contains(#"data-testid="git-deploy-pick""#))
        #expect(html.contains(#"rel="next""#) && !html.contains(#"rel="prev""#))

        // Without promote:plan: no deploy; with no other readable environment: compare with live only.
        var reader = model
        reader.canDeploy = false
        reader.deployTargets = []
        reader.others = []
        let read = Layout.render(GitHistoryPage.View(model: reader, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(!read.contains(#"data-testid="git-deploy-form""#) && !read.contains(#"data-testid="git-deploy-pick""#))
        #expect(!read.contains(#"data-testid="git-compare-environment-form""#) && read.contains(#"data-testid="git-compare-live""#))

        // One revision: it is From, Superset now is To.
        var one = reader
        one.revisions = [model.revisions[1]]
        one.hasMore = false
        let single = Layout.render(GitHistoryPage.View(model: one, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(single.contains("name=\"from\" value=\"\(f.shaA)\" checked") && single.contains(#"name="to" value="live" checked"#))
        #expect(!single.contains(#"class="pager""#))
    }

    @Test func aDashboardComparedSideBySide() throws {
        let f = GitPageFixtures.self
        let model = GitDiffPage.Model(environmentID: f.devID, environment: "dev", dashboard: f.dashboard, title: f.hostile, diff: f.diff)
        for lang in ["en", "ru"] {
            let html = Layout.render(GitDiffPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/git/diff"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\""))
            try assertSnapshot(html, named: "git-diff-\(lang)")
        }
        let html = Layout.render(GitDiffPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(html.contains("dev @ a1a1a1a1a1a1 → dev, live in Superset"))
        #expect(occurrences(#"data-testid="git-diff-file""#, in: html) == 3)
        #expect(occurrences(#"data-testid="git-diff-field""#, in: html) == 3)
        #expect(html.contains(#"data-field="metadata.native_filter_configuration""#))
        #expect(html.contains(#"data-status="added""#) && html.contains(#"data-status="removed""#) && html.contains(#"data-kind="chart""#))
        // Columns: the field, then each side by its label.
        #expect(html.contains("<th>Field</th>\n<th>dev @ a1a1a1a1a1a1</th>\n<th>dev, live in Superset</th>".replacingOccurrences(of: "\n", with: "")))
        #expect(html.contains(#"<td class="absent">"#), "a field absent on one side says so")
        #expect(html.contains(#"data-testid="git-unified""#) && html.contains("+dashboard_title: &lt;script&gt;"))
        #expect(!html.contains(#"data-testid="git-diff-identical""#))
        let ru = Layout.render(GitDiffPage.View(model: model, localizer: Localizer(language: "ru")), context: context("ru", path: "/"))
        #expect(ru.contains("dev, сейчас в Superset"))

        var same = f.diff
        same.identical = true
        same.files = []
        same.unified = ""
        let s = Layout.render(GitDiffPage.View(model: GitDiffPage.Model(environmentID: f.devID, environment: "dev", dashboard: f.dashboard, title: "Sales", diff: same),
                                               localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(s.contains(#"data-testid="git-diff-identical""#) && !s.contains(#"data-testid="git-diff-file""#) && !s.contains(#"data-testid="git-unified""#))

        let failed = GitDiffPage.Model(environmentID: f.devID, environment: "dev", dashboard: "sales", title: "sales",
                                       error: "dev has no dashboard 'sales' in Ferry's git history. Run a backup or a snapshot of dev to commit its dashboards.")
        let e = Layout.render(GitDiffPage.View(model: failed, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(e.contains(#"data-testid="git-diff-error""#) && e.contains("Run a backup or a snapshot of dev"))
    }

    @Test func theGitRemoteForm() throws {
        let model = GitPageFixtures.remoteModel
        for lang in ["en", "ru"] {
            let html = Layout.render(GitRemotePage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/git/remote"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            try assertSnapshot(html, named: "git-remote-\(lang)")
        }
        let html = Layout.render(GitRemotePage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        // The secret is never filled in.
        #expect(html.contains(#"<input id="f-secret" name="secret" type="password" autocomplete="new-password"/>"#))
        #expect(html.contains(#"name="secretKey""#) && html.contains("A secret is stored."))
        #expect(html.contains(#"value="ext::sh -c id""#) && html.contains("field invalid") && html.contains("must start with https://"))
        #expect(html.contains(#"<option value="none" selected>"#))
        #expect(html.contains(#"name="pushAfterCommit" value="true" checked"#))
        #expect(html.contains(#"data-testid="git-remote-remove""#) && html.contains(#"name="action" value="remove""#))
        var unset = GitRemotePage.Model()
        unset.form.branch = "main"
        let u = Layout.render(GitRemotePage.View(model: unset, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(!u.contains(#"data-testid="git-remote-remove""#) && u.contains("No secret is stored."))
    }

    @Test func dashboardsShowTheirGitDrift() throws {
        let envID = GitPageFixtures.devID
        func item(_ uuid: String, _ name: String) -> InventoryItemDTO {
            .init(environmentId: envID, environment: "dev", kind: "dashboard", id: 1, uuid: uuid, name: name, detail: nil, parent: nil, owners: [],
                  changedOn: Self.fixed, url: "http://127.0.0.1:8088/superset/dashboard/1/")
        }
        let model = DashboardsPage.Model(
            search: "", owner: "", environment: "",
            environments: [.init(id: envID, name: "dev", stage: "dev", lastSyncAt: Self.fixed, syncStatus: "succeeded", syncError: nil)],
            items: [item("AAAAAAAA-0000-4000-8000-000000000001", "Synced"), item("aaaaaaaa-0000-4000-8000-000000000002", "Edited"),
                    item("aaaaaaaa-0000-4000-8000-000000000003", "New")],
            page: 1, perPage: 50, total: 3, git: "changed",
            gitDrift: ["\(envID.key) aaaaaaaa-0000-4000-8000-000000000001": .inSync, "\(envID.key) aaaaaaaa-0000-4000-8000-000000000002": .changed])
        let html = Layout.render(DashboardsPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/dashboards"))
        #expect(cspViolations(html).isEmpty)
        #expect(html.contains(#"data-testid="git-filter""#) && html.contains(#"<option value="changed" selected>"#))
        #expect(html.contains("href=\"/git/history?dashboard=aaaaaaaa-0000-4000-8000-000000000001&amp;environment=\(envID.key)\""), "looked up lower-cased")
        #expect(html.contains("href=\"/git/history?dashboard=aaaaaaaa-0000-4000-8000-000000000002&amp;environment=\(envID.key)\""))
        #expect(!html.contains("dashboard=aaaaaaaa-0000-4000-8000-000000000003"), "never committed: no history to open")
        #expect(html.contains(#"<span class="badge drift-uncommitted""#))
        #expect(occurrences(#"data-testid="git-drift-badge""#, in: html) == 3)
        let ru = Layout.render(DashboardsPage.View(model: model, localizer: Localizer(language: "ru")), context: context("ru", path: "/dashboards"))
        #expect(ru.contains("Не сохранялся") && ru.contains("Git: Изменён"))
    }
}

/// The git history's handlers through HTTP, on a history of two real commits: the lists, a
/// comparison, what each form does, what a refused one shows, and that nothing changes then.
@Suite struct GitPagesTests {
    @Test(arguments: Store.available)
    func browsingTheHistoryAndItsForms(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("dev"))
            let prod = try await t.createEnvironment(sample("prod", stage: "prod"))
            await t.app.syncCoordinator.wait(env.id)  // their first syncs (of a closed port) end first
            await t.app.syncCoordinator.wait(prod.id)
            let ref = EnvironmentRef(id: env.id, name: env.name, stage: env.stage)
            let git = t.app.gitHistory
            _ = try await git.repository.prepare()
            try git.storage.prepare()
            let bundle = try BundleReader().read(try Data(contentsOf: GitPageFixtures.export))
            let dashboard = try #require(bundle.dashboards.first)
            let uuid = dashboard.uuid.lowercased()
            let first = try await git.commit(environment: ref, assets: try GitPageFixtures.entries(bundle, storage: git.storage, changedOn: "2026-12-01T10:00:00.000000"), author: GitAuthor(startedBy: "ada"),
                                             taskID: nil, now: Date(), on: t.db)
            let firstSHA = try #require(first.sha)
            let firstChart = try #require(dashboard.chartUUIDsInLayout.first)
            var chart = try #require(bundle.asset(.chart, uuid: firstChart))
            chart.name = "Renamed <b>chart</b>"
            var changed = bundle
            changed.insert(chart)
            let second = try await git.commit(environment: ref, assets: try GitPageFixtures.entries(changed, storage: git.storage, changedOn: "2026-12-01T11:00:00.000000"),
                                              author: GitAuthor(startedBy: "bob"), taskID: nil, now: Date(), on: t.db)
            let secondSHA = try #require(second.sha)
            var html = HTTPHeaders()
            html.replaceOrAdd(name: .accept, value: "text/html")

            // The start page: counts, the dashboards (each opening its history), the actions.
            let overview = try await t.request(.GET, "/git", headers: html)
            #expect(overview.status == .ok)
            let o = overview.body.string
            #expect(cspViolations(o).isEmpty)
            #expect(o.contains(#"data-testid="git-environment-row" data-environment="dev""#))
            #expect(o.contains("/git/history?dashboard=\(uuid)&amp;environment=\(env.id.key)"))
            #expect(o.contains(#"data-testid="git-action-snapshot""#) && o.contains(#"data-testid="git-remote-none""#))
            let none = try await t.request(.GET, "/git?environment=dev&drift=uncommitted", headers: html).body.string
            #expect(none.contains(#"data-testid="git-no-dashboards""#))
            #expect(try await t.request(.GET, "/git?environment=nope", headers: html).status == .unprocessableEntity)

            // The history: both revisions, the newest two picked, the deploy form.
            let history = try await t.request(.GET, "/git/history?environment=\(env.id.key)&dashboard=\(uuid)", headers: html)
            #expect(history.status == .ok)
            let h = history.body.string
            #expect(cspViolations(h).isEmpty)
            #expect(h.contains("data-sha=\"\(firstSHA)\"") && h.contains("data-sha=\"\(secondSHA)\""))
            #expect(h.contains("name=\"from\" value=\"\(firstSHA)\" checked") && h.contains("name=\"to\" value=\"\(secondSHA)\" checked"))
            #expect(h.contains(#"data-testid="git-deploy-form""#))
            let missing = try await t.request(.GET, "/git/history?environment=dev&dashboard=no-such-board", headers: html)
            #expect(missing.status == .notFound && missing.body.string.contains("Run a backup or a snapshot of dev"))

            // The comparison of the two revisions, field by field, hostile text escaped.
            let diff = try await t.request(.GET, "/git/diff?environment=\(env.id.key)&dashboard=\(uuid)&from=\(firstSHA)&to=\(secondSHA)", headers: html)
            #expect(diff.status == .ok)
            let d = diff.body.string
            #expect(cspViolations(d).isEmpty)
            #expect(d.contains(#"data-field="slice_name""#) && d.contains(#"data-testid="git-unified""#))
            #expect(d.contains("Renamed &lt;b&gt;chart&lt;/b&gt;") && !d.contains("<b>chart</b>"))
            let same = try await t.request(.GET, "/git/diff?environment=dev&dashboard=\(uuid)&from=\(secondSHA)&to=HEAD", headers: html)
            #expect(same.status == .ok && same.body.string.contains(#"data-testid="git-diff-identical""#))
            let unknown = try await t.request(.GET, "/git/diff?environment=dev&dashboard=\(uuid)&from=deadbeef&to=HEAD", headers: html)
            #expect(unknown.status == .unprocessableEntity)
            #expect(unknown.body.string.contains(#"data-testid="git-diff-error""#) && unknown.body.string.contains("no commit 'deadbeef'"))

            // Actions: an unknown one is refused; a snapshot is queued and its task opened.
            let bogus = try await t.request(.POST, "/git/action", headers: formHeaders(), body: formBody([("action", "rm"), ("environment", env.id.key)]))
            #expect(bogus.status == .unprocessableEntity)
            let snapshot = try await t.request(.POST, "/git/action", headers: formHeaders(), body: formBody([("action", "snapshot"), ("environment", env.id.key)]))
            #expect(snapshot.status == .seeOther)
            let task = try #require(try await TaskModel.query(on: t.db).filter(\.$pluginID == "git.snapshot").first())
            #expect(snapshot.headers.first(name: .location) == "/tasks/\(task.id!.key)")

            // Deploy: no target is refused on the history page, no plan made; with one, the plan page.
            let noTarget = try await t.request(.POST, "/git/deploy", headers: formHeaders(), body: formBody([
                ("revision", firstSHA), ("source", env.id.key), ("target", ""), ("dashboards", uuid),
            ]))
            #expect(noTarget.status == .unprocessableEntity)
            #expect(noTarget.body.string.contains(#"data-testid="git-deploy-error""#))
            #expect(noTarget.body.string.contains("<option value=\"\(firstSHA)\" selected>"), "the revision picked stays")
            #expect(try await PromotionPlanModel.query(on: t.db).count() == 0)
            let planned = try await t.request(.POST, "/git/deploy", headers: formHeaders(), body: formBody([
                ("revision", firstSHA), ("source", env.id.key), ("target", prod.id.key), ("dashboards", uuid),
            ]))
            #expect(planned.status == .seeOther, "\(planned.body.string)")
            let plan = try #require(try await PromotionPlanModel.query(on: t.db).first())
            #expect(planned.headers.first(name: .location) == "/promote/plans/\(plan.id!.key)")
            #expect(plan.sourceRevision == firstSHA && plan.sourceEnvID == env.id && plan.targetEnvID == prod.id && plan.selection.contains(uuid))

            // The remote: a refused address is shown with what was typed and nothing saved.
            let form = try await t.request(.GET, "/git/remote", headers: html).body.string
            #expect(form.contains(#"data-testid="git-remote-form""#) && !form.contains(#"data-testid="git-remote-remove""#))
            let injected = try await t.request(.POST, "/git/remote", headers: formHeaders(), body: formBody([
                ("url", "ext::sh -c id"), ("auth", "none"), ("username", ""), ("secret", ""), ("secretKey", ""), ("branch", "main"), ("pushAfterCommit", "false"),
            ]))
            #expect(injected.status == .unprocessableEntity)
            #expect(injected.body.string.contains("field invalid") && injected.body.string.contains(#"value="ext::sh -c id""#))
            #expect(try await SettingModel.query(on: t.db).filter(\.$key == GitRemoteStore.settingsKey).first() == nil)
            let saved = try await t.request(.POST, "/git/remote", headers: formHeaders(), body: formBody([
                ("url", "https://git.example.com/team/ferry.git"), ("auth", "token"), ("username", "ferry"), ("secret", "tok-page-secret"),
                ("secretKey", ""), ("branch", "main"), ("pushAfterCommit", "false"),
            ]))
            #expect(saved.status == .seeOther, "\(saved.body.string)")
            #expect(saved.headers.first(name: .location) == "/git/remote?done=saved")
            let shown = try await t.request(.GET, "/git/remote?done=saved", headers: html).body.string
            #expect(!shown.contains("tok-page-secret") && shown.contains("A secret is stored.") && shown.contains(#"data-testid="flash""#))
            #expect(try await t.request(.GET, "/git", headers: html).body.string.contains("https://git.example.com/team/ferry.git"))
            // Saved again with the secret left empty: the stored one is kept.
            let kept = try await t.request(.POST, "/git/remote", headers: formHeaders(), body: formBody([
                ("url", "https://git.example.com/team/ferry.git"), ("auth", "token"), ("username", "ferry"), ("secret", ""),
                ("secretKey", ""), ("branch", "history"), ("pushAfterCommit", "false"),
            ]))
            #expect(kept.status == .seeOther, "\(kept.body.string)")
            let stored = try await t.app.gitHistory.remote!.load(on: t.db)
            #expect(stored.secretSealed != nil && stored.branch == "history")
            let removed = try await t.request(.POST, "/git/remote", headers: formHeaders(), body: formBody([("action", "remove")]))
            #expect(removed.status == .seeOther && removed.headers.first(name: .location) == "/git/remote?done=removed")
            #expect(try await t.app.gitHistory.remote!.load(on: t.db).isConfigured == false)
        }
    }
}

/// The git list over committed records and the inventory: sorted by title (any case), then
/// uuid; a committed dashboard listed once, with its record; drift, search and the page applied
/// before a page is cut; the total counts every match.
@Suite struct GitListTests {
    @Test(arguments: Store.available)
    func theListIsSortedFilteredAndPagedOverCommittedAndUncommitted(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("dev"))
            await t.app.syncCoordinator.wait(env.id)
            let ref = EnvironmentRef(id: env.id, name: env.name, stage: env.stage)
            let (a1, a2, b, g) = ("aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002",
                                  "bbbbbbbb-0000-4000-8000-000000000001", "cccccccc-0000-4000-8000-000000000001")
            let now = t.app.ferry.now()
            for (uuid, title, dir, drift) in [(a2, "alpha", "dev/dashboards/alpha", GitDriftStatus.inSync), (b, "Beta", "dev/dashboards/beta-board", .changed)] {
                let row = GitDashboardModel()
                (row.id, row.environmentID, row.dashboardUUID, row.title, row.dir) = (UUID(), env.id, uuid, title, dir)
                (row.contentKey, row.changedKey, row.members, row.commitSHA, row.committedAt, row.drift) = ("c", "k", "[]", "abc123", now, drift.rawValue)
                try await row.create(on: t.db)
            }
            let stored = try #require(try await EnvironmentModel.find(env.id, on: t.db))
            let items = [(1, a1, "Alpha"), (2, b.uppercased(), "beta"), (3, g, "Gamma")].map { id, uuid, name in
                let m = InventoryItemModel()
                (m.environmentID, m.kind, m.supersetID, m.uuid, m.name, m.owners, m.ownerUsernames) = (env.id, AssetKind.dashboard.rawValue, id, uuid, name, "", "")
                (m.searchText, m.syncedAt) = (name.lowercased(), now)
                return m
            }
            let snapshot = InventoryIndex.Snapshot(environments: [(stored, nil)], items: items, fingerprint: "f", checkedAt: now)
            func list(_ drift: GitDriftStatus? = nil, _ search: String? = nil, _ range: Range<Int> = 0..<50) async throws -> ([String], Int) {
                let listed = try await GitService.dashboards(environment: ref, drift: drift, search: search, inventory: snapshot, range: range, on: t.db)
                return (listed.items.map(\.uuid), listed.total)
            }

            // Alpha and alpha tie on the title: the uuid decides. beta is committed as Beta.
            #expect(try await list() == ([a1, a2, b, g], 4))
            #expect(try await list(nil, nil, 1..<3) == ([a2, b], 4))
            #expect(try await list(nil, nil, 4..<54) == ([], 4))
            #expect(try await list(.uncommitted) == ([a1, g], 2))
            #expect(try await list(.changed) == ([b], 1))
            #expect(try await list(nil, " BETA-board ") == ([b], 1), "the committed folder")
            #expect(try await list(nil, "cccccccc") == ([g], 1), "an uncommitted uuid")
            #expect(try await list(.inSync, "gamma") == ([], 0))

            let shown = try await GitService.dashboards(environment: ref, drift: nil, search: nil, inventory: snapshot, range: 1..<3, on: t.db).items
            #expect(shown[0].path == "dev/dashboards/alpha" && shown[0].lastCommit == "abc123" && shown[0].drift == GitDriftStatus.inSync.rawValue)
            #expect(shown[1].title == "Beta" && shown[1].drift == GitDriftStatus.changed.rawValue)
            let first = try await GitService.dashboards(environment: ref, drift: nil, search: nil, inventory: snapshot, range: 0..<1, on: t.db).items[0]
            #expect(first.title == "Alpha" && first.path == nil && first.lastCommit == nil && first.drift == GitDriftStatus.uncommitted.rawValue)
        }
    }
}
