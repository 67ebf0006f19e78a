import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// Hand-built models for the storage browser's views.
enum BackupPageFixtures {
    static let fixed = ViewSnapshotTests.fixed
    static let envID = UUID(uuidString: "00000000-0000-4000-8000-0000000000b1")!
    static let prodID = UUID(uuidString: "00000000-0000-4000-8000-0000000000b2")!
    static let goneID = UUID(uuidString: "00000000-0000-4000-8000-0000000000b3")!
    static let taskBackup = UUID(uuidString: "00000000-0000-4000-8000-0000000000c1")!
    static let uploadBackup = UUID(uuidString: "00000000-0000-4000-8000-0000000000c2")!
    static let dashboard = "11111111-1111-4111-8111-111111111111"
    static let chart = "22222222-2222-4222-8222-222222222222"
    static let dataset = "33333333-3333-4333-8333-333333333333"
    static let database = "44444444-4444-4444-8444-444444444444"

    static func backup(_ id: UUID, origin: String = "task", full: Bool = true, verify: String = "unverified", pinned: Bool = false,
                       problems: [BackupProblemDTO] = [], at: Date = fixed) -> BackupDTO {
        BackupDTO(id: id, environmentId: envID, environment: "dev", createdAt: at, supersetVersion: origin == "upload" ? "unknown (uploaded)" : "6.1.0",
                  full: full, origin: origin, counts: .init(dashboards: 3, charts: 12, datasets: 4, databases: 1), totalBytes: 1_572_864, newBytes: 2_048,
                  checksum: String(repeating: "ab", count: 32), pinned: pinned, verifyStatus: verify, verifiedAt: verify == "unverified" ? nil : at,
                  problems: problems, taskId: origin == "task" ? UUID(uuidString: "00000000-0000-4000-8000-0000000000d1")! : nil, createdBy: "ada")
    }

    static var assets: [BackupAssetDTO] {
        [
            BackupAssetDTO(kind: .dashboard, uuid: dashboard, name: "Sales <overview>", hash: String(repeating: "1", count: 64), size: 4_200,
                           changedOn: fixed, refs: [chart]),
            BackupAssetDTO(kind: .chart, uuid: chart, name: "Revenue\" onmouseover=\"alert(1)", hash: String(repeating: "2", count: 64), size: 900,
                           changedOn: fixed, refs: [dataset]),
            BackupAssetDTO(kind: .dataset, uuid: dataset, name: "orders", hash: String(repeating: "3", count: 64), size: 1_300, changedOn: nil, refs: [database]),
            BackupAssetDTO(kind: .database, uuid: database, name: "warehouse", hash: String(repeating: "4", count: 64), size: 300, changedOn: nil, refs: []),
        ]
    }

    static var environmentModel: BackupsEnvironmentPage.Model {
        var m = BackupsEnvironmentPage.Model(environmentID: envID, environment: "dev")
        m.backups = [
            backup(uploadBackup, origin: "upload", full: false, verify: "verified", pinned: true, at: fixed.addingTimeInterval(3600)),
            backup(taskBackup),
        ]
        m.total = 2
        m.retention = .init(keepLast: "0", daily: "7", weekly: "4", monthly: "6")
        m.retentionErrors = ["keepLast": "keep at least the last backup (1 or more)"]
        m.retentionError = "Correct the marked fields and save again."
        m.schedule = .init(cron: "0 2 * * *", timeZone: "Europe/Berlin", enabled: true)
        m.hasSchedule = true
        m.nextRunAt = fixed.addingTimeInterval(86_400)
        m.uploadError = "The upload is not a Superset export ZIP Ferry can read: not a ZIP archive. Export from Superset (Dashboards > Export) and upload that file; nothing was stored."
        m.canRun = true
        m.canSchedule = true
        return m
    }

    static var detailModel: BackupDetailPage.Model {
        var m = BackupDetailPage.Model(backup: backup(taskBackup), search: "", kind: "")
        m.assets = assets
        m.matching = assets.count
        m.targets = [.init(id: envID, name: "dev"), .init(id: prodID, name: "prod")]
        m.restore = .init(target: envID.key, picked: [chart])
        m.canRun = true
        return m
    }
}

extension ViewSnapshotTests {
    @Test func backupsOverview() throws {
        let model = BackupsPage.Model(rows: [
            .init(environmentID: BackupPageFixtures.envID, environment: "dev", stage: "dev", count: 12, totalBytes: 25_165_824, storedBytes: 3_145_728,
                  latest: Self.fixed, corrupt: 1),
            .init(environmentID: BackupPageFixtures.prodID, environment: "prod", stage: "prod"),
            .init(environmentID: BackupPageFixtures.goneID, environment: "deleted:00000000", stage: nil, count: 2, totalBytes: 900, storedBytes: 900,
                  latest: Self.fixed, corrupt: 0),
        ])
        for lang in ["en", "ru"] {
            let html = Layout.render(BackupsPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/backups"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(html.contains(#"data-testid="corrupt-count""#))
            #expect(html.contains("href=\"/backups/environments/\(BackupPageFixtures.envID.key)\""))
            #expect(html.contains(#"href="/backups" class="active""#), "the Backups navigation item is current")
            try assertSnapshot(html, named: "backups-\(lang)")
        }
        let en = Layout.render(BackupsPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/backups"))
        #expect(en.contains("24.0 MB") && en.contains("3.0 MB") && en.contains("900 B"))
        let ru = Layout.render(BackupsPage.View(model: model, localizer: Localizer(language: "ru")), context: context("ru", path: "/backups"))
        #expect(ru.contains("24,0 МБ"))
        let empty = Layout.render(BackupsPage.View(model: .init(rows: []), localizer: Localizer(language: "en")), context: context("en", path: "/backups"))
        #expect(empty.contains(#"data-testid="no-backup-environments""#))
    }

    @Test func anEnvironmentsBackupsWithRefusedForms() throws {
        let model = BackupPageFixtures.environmentModel
        for lang in ["en", "ru"] {
            let html = Layout.render(BackupsEnvironmentPage.View(model: model, localizer: Localizer(language: lang)),
                                     context: context(lang, path: "/backups/environments/\(BackupPageFixtures.envID.key)"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            try assertSnapshot(html, named: "backups-environment-\(lang)")
        }
        let html = Layout.render(BackupsEnvironmentPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        for testID in ["run-form", "upload-form", "retention-form", "schedule-form", "compare-form", "upload-error", "retention-error"] {
            #expect(html.contains("data-testid=\"\(testID)\""), "\(testID)")
        }
        #expect(html.contains(#"enctype="multipart/form-data""#))
        #expect(html.contains(#"action="/backups/diff""#))
        // The newest two are picked for comparison: the older as From, the newer as To.
        #expect(html.contains("name=\"from\" value=\"\(BackupPageFixtures.taskBackup.key)\" checked"))
        #expect(html.contains("name=\"to\" value=\"\(BackupPageFixtures.uploadBackup.key)\" checked"))
        #expect(html.contains(#"data-origin="upload""#) && html.contains(#"data-field="pinned""#))
        #expect(html.contains("keep at least the last backup"))
        #expect(html.contains(#"value="0""#), "what was typed stays")

        // A reader sees the backups and the policy, and no form that changes anything.
        var reader = model
        reader.canRun = false
        reader.canSchedule = false
        reader.retentionError = nil
        reader.retentionErrors = [:]
        reader.uploadError = nil
        let read = Layout.render(BackupsEnvironmentPage.View(model: reader, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        for testID in ["run-form", "upload-form", "retention-form", "schedule-form"] {
            #expect(!read.contains("data-testid=\"\(testID)\""), "\(testID) is shown without backup:run")
        }
        #expect(read.contains(#"data-testid="retention""#) && read.contains(#"data-testid="compare-form""#))

        // Someone with backup:run but not schedules:write may set retention, not the schedule.
        var runner = model
        runner.canSchedule = false
        let run = Layout.render(BackupsEnvironmentPage.View(model: runner, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(run.contains(#"data-testid="retention-form""#) && !run.contains(#"data-testid="schedule-form""#))
        #expect(run.contains(#"data-testid="schedule""#))

        // A deleted environment: its backups, nothing to run.
        var gone = BackupsEnvironmentPage.Model(environmentID: BackupPageFixtures.goneID, environment: "deleted:00000000", exists: false)
        gone.backups = [BackupPageFixtures.backup(BackupPageFixtures.taskBackup)]
        gone.canRun = true
        let g = Layout.render(BackupsEnvironmentPage.View(model: gone, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(g.contains(#"data-testid="environment-gone""#))
        #expect(!g.contains(#"data-testid="run-form""#) && !g.contains(#"data-testid="upload-form""#) && !g.contains(#"data-testid="retention-form""#))
        #expect(!g.contains(#"data-testid="compare-form""#), "one backup: nothing to compare")
    }

    @Test func aBackupsContentsAndItsRestoreForm() throws {
        let model = BackupPageFixtures.detailModel
        for lang in ["en", "ru"] {
            let html = Layout.render(BackupDetailPage.View(model: model, localizer: Localizer(language: lang)),
                                     context: context(lang, path: "/backups/\(BackupPageFixtures.taskBackup.key)"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            // Escaped in attributes (no new attribute) and in text (no new element).
            #expect(!html.contains("Sales <overview>") && !html.contains("\"Revenue\" onmouseover") && !html.contains("Revenue\" onmouseover=\"alert(1)\""))
            try assertSnapshot(html, named: "backup-detail-\(lang)")
        }
        let html = Layout.render(BackupDetailPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(html.contains(#"data-testid="restore-form""#) && html.contains(#"data-testid="delete-form""#))
        // A tick box per dashboard, chart and dataset (the ticked one kept), none for the connection.
        #expect(html.contains("name=\"dashboards\" value=\"\(BackupPageFixtures.dashboard)\""))
        #expect(html.contains("name=\"charts\" value=\"\(BackupPageFixtures.chart)\" checked"))
        #expect(html.contains("name=\"datasets\" value=\"\(BackupPageFixtures.dataset)\""))
        #expect(!html.contains("pick-\(BackupPageFixtures.database)"))
        #expect(html.contains("Tick nothing to restore the whole backup"))
        #expect(html.contains("<option value=\"\(BackupPageFixtures.envID.key)\" selected"))
        // Only dashboards download on their own.
        #expect(html.contains("/backups/\(BackupPageFixtures.taskBackup.key)/download?dashboard=\(BackupPageFixtures.dashboard)"))
        #expect(!html.contains("download?dashboard=\(BackupPageFixtures.chart)"))
        #expect(html.contains(#"data-testid="download-all""#))
        #expect(html.contains(#"name="confirm" value="yes""#))

        // Corrupt: a red notice naming every problem, and no restore.
        var corrupt = model
        corrupt.backup = BackupPageFixtures.backup(BackupPageFixtures.taskBackup, verify: "corrupt", problems: [
            BackupProblemDTO(kind: "chart", uuid: BackupPageFixtures.chart, name: "Revenue", problem: "its file is missing from the storage"),
            BackupProblemDTO(kind: "dashboard", uuid: BackupPageFixtures.dashboard, name: "Sales", problem: "its file is corrupt"),
        ])
        let bad = Layout.render(BackupDetailPage.View(model: corrupt, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(bad.contains(#"data-testid="corrupt""#) && bad.contains("its file is missing from the storage") && bad.contains("its file is corrupt"))
        #expect(bad.contains("CORRUPT"))
        #expect(!bad.contains(#"data-testid="restore-form""#) && !bad.contains("name=\"charts\""))
        #expect(bad.contains(#"data-testid="no-restore""#))
        try assertSnapshot(bad, named: "backup-detail-corrupt")

        // A reader: contents and downloads, no pin, verify, delete or restore.
        var reader = model
        reader.canRun = false
        reader.targets = []
        let read = Layout.render(BackupDetailPage.View(model: reader, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(!read.contains(#"data-testid="delete-form""#) && !read.contains(#"data-testid="pin""#) && !read.contains(#"data-testid="verify""#))
        #expect(!read.contains(#"data-testid="restore-form""#) && read.contains(#"data-testid="assets""#))

        // More matches than shown: the page says so. A refused delete says why.
        var many = model
        many.matching = 1_200
        many.deleteError = Localizer(language: "en").t("backup.delete_unconfirmed")
        let m = Layout.render(BackupDetailPage.View(model: many, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(m.contains("Showing 4 of 1200 assets found"))
        #expect(m.contains(#"data-testid="delete-error""#))

        // An unreadable manifest: the summary and why, no contents.
        var unreadable = model
        unreadable.contentsError = "The manifest of backup c1 is missing from the backup storage."
        unreadable.assets = []
        let u = Layout.render(BackupDetailPage.View(model: unreadable, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(u.contains(#"data-testid="contents-error""#) && !u.contains(#"data-testid="restore-form""#))
    }

    @Test func twoBackupsCompared() throws {
        func entry(_ kind: AssetKind, _ uuid: String, _ name: String) -> BackupManifest.Entry {
            .init(kind: kind, uuid: uuid, name: name, hash: String(repeating: "5", count: 64), size: 1, changedOn: nil, refs: [])
        }
        let diff = BackupDiff(
            from: BackupPageFixtures.taskBackup, to: BackupPageFixtures.uploadBackup,
            added: [BackupDiff.Item(entry(.dashboard, BackupPageFixtures.dashboard, "New <board>"))],
            removed: [BackupDiff.Item(entry(.chart, BackupPageFixtures.chart, "Old chart")), BackupDiff.Item(entry(.dataset, BackupPageFixtures.dataset, "orders"))],
            changed: [
                .init(kind: .dashboard, uuid: "55555555-5555-4555-8555-555555555555", name: "Sales", previousName: "Sales (old)",
                      fields: ["dashboard_title", "json_metadata.native_filter_configuration", "position.CHART-1.meta.width"]),
                .init(kind: .chart, uuid: "66666666-6666-4666-8666-666666666666", name: "Wide", previousName: nil,
                      fields: (1...35).map { "params.field_\($0)" }),
            ])
        let model = BackupDiffPage.Model(from: BackupPageFixtures.backup(BackupPageFixtures.taskBackup),
                                         to: BackupPageFixtures.backup(BackupPageFixtures.uploadBackup, origin: "upload", full: false, at: Self.fixed.addingTimeInterval(60)),
                                         diff: diff)
        for lang in ["en", "ru"] {
            let html = Layout.render(BackupDiffPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/backups/diff"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("New <board>"))
            try assertSnapshot(html, named: "backup-diff-\(lang)")
        }
        let html = Layout.render(BackupDiffPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(html.contains("1 added, 2 removed, 2 changed"))
        #expect(html.contains(#"data-path="json_metadata.native_filter_configuration""#))
        #expect(html.contains("and 5 more"), "field paths beyond the limit are counted")
        #expect(html.contains("(was “Sales (old)”)"))
        let same = BackupDiffPage.Model(from: model.from, to: model.to, diff: BackupDiff(from: model.from.id, to: model.to.id))
        let s = Layout.render(BackupDiffPage.View(model: same, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(s.contains(#"data-testid="diff-identical""#) && !s.contains(#"data-testid="diff-added""#))
    }
}

/// The storage browser's handlers through HTTP: what each form does, what a refused one shows,
/// and that nothing changes when it is refused.
@Suite struct BackupPagesTests {
    /// Records a backup of `env` holding one dashboard with its chart, dataset and connection
    /// (the listing needs no blob content).
    static func seed(_ t: TestHarness, env: UUID) async throws -> BackupModel {
        let storage = t.app.backupStorage
        try storage.prepare()
        func entry(_ kind: AssetKind, _ uuid: String, _ name: String, refs: [String]) throws -> BackupManifest.Entry {
            let (hash, size, _) = try storage.put(Data("\(kind.folder): \(name)\n".utf8))
            return .init(kind: kind, uuid: uuid, name: name, hash: hash, size: size, changedOn: t.clock.now(), refs: refs)
        }
        let f = BackupPageFixtures.self
        var manifest = BackupManifest(
            backup: UUID(), environment: env, environmentName: "dev", createdAt: t.clock.now(), supersetVersion: "6.1.0", full: true, origin: .task,
            basedOn: nil, assets: [
                try entry(.dashboard, f.dashboard, "Sales overview", refs: [f.chart]), try entry(.chart, f.chart, "Revenue", refs: [f.dataset]),
                try entry(.dataset, f.dataset, "orders", refs: [f.database]), try entry(.database, f.database, "warehouse", refs: []),
            ], newBytes: 10)
        return try await BackupService.record(&manifest, storage: storage, taskID: nil, createdBy: "t", on: t.db)
    }

    @Test(arguments: Store.available)
    func browsingABackupAndItsRefusedForms(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("dev"))
            await t.app.syncCoordinator.wait(env.id)  // its first sync (of a closed port) ends first
            let row = try await Self.seed(t, env: env.id)
            let id = row.id!.key
            var html = HTTPHeaders()
            html.replaceOrAdd(name: .accept, value: "text/html")

            let overview = try await t.request(.GET, "/backups", headers: html)
            #expect(overview.status == .ok)
            #expect(overview.body.string.contains(#"<tr data-environment="dev">"#))
            #expect(cspViolations(overview.body.string).isEmpty)

            let list = try await t.request(.GET, "/backups/environments/\(env.id.key)", headers: html)
            #expect(list.status == .ok)
            #expect(list.body.string.contains("data-backup=\"\(id)\""))
            #expect(list.body.string.contains(#"data-testid="run-form""#) && list.body.string.contains(#"data-testid="upload-form""#))

            let page = try await t.request(.GET, "/backups/\(id)?search=sales&kind=dashboard", headers: html).body.string
            #expect(page.contains("Sales overview") && !page.contains(">Revenue<"))
            #expect(page.contains("Assets found: 1"))
            #expect(page.contains(#"data-testid="restore-form""#))
            let charts = try await t.request(.GET, "/backups/\(id)?kind=chart", headers: html).body.string
            #expect(charts.contains(">Revenue<") && !charts.contains("Sales overview"))

            // Delete without the confirmation: refused, shown, nothing deleted.
            let unconfirmed = try await t.request(.POST, "/backups/\(id)/delete", headers: formHeaders(), body: "")
            #expect(unconfirmed.status == .unprocessableEntity)
            #expect(unconfirmed.body.string.contains(#"data-testid="delete-error""#))
            #expect(try await BackupModel.find(row.id, on: t.db) != nil)

            // Pin and unpin.
            let pinned = try await t.request(.POST, "/backups/\(id)/pin", headers: formHeaders(), body: formBody([("pinned", "true")]))
            #expect(pinned.status == .seeOther)
            #expect(pinned.headers.first(name: .location) == "/backups/\(id)?done=pinned")
            #expect(try await BackupModel.find(row.id, on: t.db)?.pinned == true)
            _ = try await t.request(.POST, "/backups/\(id)/pin", headers: formHeaders(), body: formBody([("pinned", "false")]))
            #expect(try await BackupModel.find(row.id, on: t.db)?.pinned == false)

            // Retention: a word and a zero are refused by field; a valid one is saved.
            let word = try await t.request(.POST, "/backups/environments/\(env.id.key)/policy", headers: formHeaders(), body: formBody([
                ("part", "retention"), ("keepLast", "many"), ("daily", "7"), ("weekly", "4"), ("monthly", "6"),
            ]))
            #expect(word.status == .unprocessableEntity)
            #expect(word.body.string.contains("must be a whole number") && word.body.string.contains(#"value="many""#))
            let zero = try await t.request(.POST, "/backups/environments/\(env.id.key)/policy", headers: formHeaders(), body: formBody([
                ("part", "retention"), ("keepLast", "0"), ("daily", "7"), ("weekly", "4"), ("monthly", "6"),
            ]))
            #expect(zero.status == .unprocessableEntity)
            #expect(zero.body.string.contains("keep at least the last backup"))
            let saved = try await t.request(.POST, "/backups/environments/\(env.id.key)/policy", headers: formHeaders(), body: formBody([
                ("part", "retention"), ("keepLast", "3"), ("daily", "0"), ("weekly", "2"), ("monthly", "1"),
            ]))
            #expect(saved.status == .seeOther)
            #expect(try await BackupService.policy(environment: env.id, on: t.db) == RetentionPolicy(keepLast: 3, daily: 0, weekly: 2, monthly: 1))

            // Schedule: a bad cron is refused with its field; a good one is saved.
            let badCron = try await t.request(.POST, "/backups/environments/\(env.id.key)/policy", headers: formHeaders(), body: formBody([
                ("part", "schedule"), ("cron", "61 * * * *"), ("timeZone", "UTC"), ("enabled", "false"), ("enabled", "true"),
            ]))
            #expect(badCron.status == .unprocessableEntity)
            #expect(badCron.body.string.contains("minute: 61 is out of range 0-59"))
            #expect(try await BackupSchedule.find(environment: env.id, on: t.db) == nil)
            let goodCron = try await t.request(.POST, "/backups/environments/\(env.id.key)/policy", headers: formHeaders(), body: formBody([
                ("part", "schedule"), ("cron", "0 2 * * *"), ("timeZone", "Europe/Berlin"), ("enabled", "false"), ("enabled", "true"),
            ]))
            #expect(goodCron.status == .seeOther)
            let schedule = try #require(try await BackupSchedule.find(environment: env.id, on: t.db))
            #expect(schedule.cron == "0 2 * * *" && schedule.timeZone == "Europe/Berlin" && schedule.enabled)

            // An upload that is not a Superset export: refused with why, nothing stored.
            var multipart = HTTPHeaders()
            multipart.contentType = HTTPMediaType(type: "multipart", subType: "form-data", parameters: ["boundary": "ferry-boundary"])
            multipart.replaceOrAdd(name: .accept, value: "text/html")
            let notZip = "--ferry-boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                + "just some notes\r\n--ferry-boundary--\r\n"
            let upload = try await t.request(.POST, "/backups/environments/\(env.id.key)/upload", headers: multipart, body: notZip)
            #expect(upload.status == .unprocessableEntity)
            #expect(upload.body.string.contains(#"data-testid="upload-error""#) && upload.body.string.contains("nothing was stored"))
            #expect(try await BackupModel.query(on: t.db).count() == 1)

            // Restore: no target is refused on the page, no plan made; with one, the plan page.
            let noTarget = try await t.request(.POST, "/backups/\(id)/restore", headers: formHeaders(), body: formBody([
                ("target", ""), ("dashboards", BackupPageFixtures.dashboard), ("search", "sales"), ("kind", ""),
            ]))
            #expect(noTarget.status == .unprocessableEntity)
            #expect(noTarget.body.string.contains(#"data-testid="restore-error""#))
            #expect(noTarget.body.string.contains("name=\"dashboards\" value=\"\(BackupPageFixtures.dashboard)\" checked"), "the ticks stay")
            #expect(try await PromotionPlanModel.query(on: t.db).count() == 0)
            let planned = try await t.request(.POST, "/backups/\(id)/restore", headers: formHeaders(), body: formBody([
                ("target", env.id.key), ("dashboards", BackupPageFixtures.dashboard), ("charts", BackupPageFixtures.chart),
            ]))
            #expect(planned.status == .seeOther)
            let plan = try #require(try await PromotionPlanModel.query(on: t.db).first())
            #expect(planned.headers.first(name: .location) == "/promote/plans/\(plan.id!.key)")
            #expect(plan.sourceBackupID == row.id && plan.targetEnvID == env.id)
            #expect(plan.selection.contains(BackupPageFixtures.dashboard) && plan.selection.contains(BackupPageFixtures.chart))

            // Verify and back up now queue their tasks and open them.
            let verify = try await t.request(.POST, "/backups/\(id)/verify", headers: formHeaders(), body: "")
            #expect(verify.status == .seeOther)
            #expect(verify.headers.first(name: .location)?.hasPrefix("/tasks/") == true)
            let run = try await t.request(.POST, "/backups/environments/\(env.id.key)/run", headers: formHeaders(), body: formBody([("full", "true")]))
            #expect(run.status == .seeOther)
            let task = try #require(try await TaskModel.query(on: t.db).filter(\.$pluginID == "backup.run").first())
            #expect(run.headers.first(name: .location) == "/tasks/\(task.id!.key)")
            #expect(task.params.contains("\"full\":true") || task.params.contains("\"full\": true"))

            // Compare needs both backups; then the page lists the difference.
            #expect(try await t.request(.GET, "/backups/diff?from=\(id)", headers: html).status == .unprocessableEntity)
            let same = try await t.request(.GET, "/backups/diff?from=\(id)&to=\(id)", headers: html)
            #expect(same.status == .ok && same.body.string.contains(#"data-testid="diff-identical""#))

            // Confirmed: deleted, back to the environment's list.
            let deleted = try await t.request(.POST, "/backups/\(id)/delete", headers: formHeaders(), body: formBody([("confirm", "yes")]))
            #expect(deleted.status == .seeOther)
            #expect(deleted.headers.first(name: .location) == "/backups/environments/\(env.id.key)?done=deleted")
            #expect(try await BackupModel.find(row.id, on: t.db) == nil)
            #expect(try await t.request(.GET, "/backups/\(id)", headers: html).status == .notFound)
        }
    }

    @Test func pagesJudgeTheStoredBackupsEnvironment() async throws {
        try await withFerry(.sqlite) { t in
            var html = HTTPHeaders()
            html.replaceOrAdd(name: .accept, value: "text/html")
            #expect(try await t.request(.GET, "/backups/environments/\(UUID().uuidString.lowercased())", headers: html).status == .notFound)
            #expect(try await t.request(.GET, "/backups/\(UUID().uuidString.lowercased())", headers: html).status == .notFound)
            let anonymous = try await t.request(.GET, "/backups", headers: html, anonymous: true)
            #expect(anonymous.status == .seeOther, "a person is sent to sign in")
        }
    }
}
