import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor
import VaporTesting
import ZIPFoundation

@testable import FerryApp

/// The backup API without a Superset: uploads make the backups, so storage, listing, contents,
/// download, diff, pin, delete, policies, restores' validation and access all run on both stores.
@Suite struct BackupsAPITests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../SupersetKitTests/Fixtures/dashboard_export.zip").standardized

    static func zip(_ files: [(String, String)]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, text) in files {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { pos, size in
                data.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        return try #require(archive.data)
    }

    static let zipHeaders: HTTPHeaders = ["Content-Type": "application/zip"]

    func upload(_ t: TestHarness, _ data: Data, env: String = "dev", headers: HTTPHeaders = zipHeaders) async throws -> TestingHTTPResponse {
        try await t.request(.POST, "/api/backups/upload?environment=\(env)", headers: headers, data: data)
    }

    @Test(arguments: Store.available)
    func uploadListBrowseDownloadDiffPinAndDelete(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("dev"))
            let original = try Data(contentsOf: Self.fixture)
            let first = try await upload(t, original)
            #expect(first.status == .created, "\(first.body.string)")
            let a = try first.content.decode(BackupDTO.self, using: JSONDecoder.ferry)
            let bundle = try BundleReader().read(original)
            #expect(a.origin == "upload" && a.counts.dashboards == bundle.dashboards.count && a.counts.charts == bundle.charts.count)
            #expect(a.newBytes > a.totalBytes && a.checksum.count == 64, "every asset file is new, and so are the manifest's chunks")

            // The same ZIP again: nothing new to store.
            let second = try await upload(t, original)
            let b = try second.content.decode(BackupDTO.self, using: JSONDecoder.ferry)
            #expect(b.newBytes == 0 && b.totalBytes == a.totalBytes)

            // A changed chart: only it is new, and the diff names the field.
            var changed = bundle
            let chart = try #require(changed.charts.first)
            var renamed = chart
            renamed.name = chart.name + " (renamed)"
            changed.insert(renamed)
            let third = try await upload(t, try BundleWriter().write(changed))
            let c = try third.content.decode(BackupDTO.self, using: JSONDecoder.ferry)
            #expect(c.newBytes > 0 && c.newBytes < c.totalBytes)
            let diff = try await t.request(.GET, "/api/backups/diff?from=\(a.id)&to=\(c.id)").content.decode(BackupDiff.self, using: JSONDecoder.ferry)
            #expect(diff.added.isEmpty && diff.removed.isEmpty)
            #expect(diff.changed.map(\.uuid) == [chart.uuid])
            #expect(diff.changed.first?.fields == ["slice_name"] && diff.changed.first?.previousName == chart.name)

            let listed = try await t.request(.GET, "/api/backups?environment=dev").json()["items"]?.listValue ?? []
            #expect(listed.compactMap { $0["id"]?.stringValue.flatMap(UUID.init(uuidString:)) } == [c.id, b.id, a.id], "newest first")

            let search = try await t.request(.GET, "/api/backups/\(c.id)/assets?search=renamed").json()
            #expect(search["total"]?.intValue == 1 && search["items"]?.listValue?.first?["uuid"]?.stringValue == chart.uuid)
            #expect(try await t.request(.GET, "/api/backups/\(c.id)/assets?kind=widget").status == .unprocessableEntity)

            // One dashboard's ZIP is a bundle Superset's import accepts: closed, type Dashboard.
            let dashboard = try #require(bundle.dashboards.first)
            let one = try await t.request(.GET, "/api/backups/\(a.id)/download?dashboard=\(dashboard.uuid)")
            #expect(one.status == .ok && one.headers.contentType == .zip)
            let oneBundle = try BundleReader().read(Data(buffer: one.body))
            #expect(oneBundle.metadata["type"]?.stringValue == "Dashboard")
            #expect(oneBundle.dashboards.map(\.uuid) == [dashboard.uuid] && oneBundle.unresolvedReferences().isEmpty)
            #expect(oneBundle.closure(.dashboard, uuids: [dashboard.uuid]) == oneBundle.closure(.dashboard, uuids: [dashboard.uuid]))
            #expect(try await t.request(.GET, "/api/backups/\(a.id)/download?dashboard=\(UUID())").status == .unprocessableEntity)

            // Pin, then delete: both audited; the row and the manifest go.
            let pinned = try await t.request(.POST, "/api/backups/\(b.id)/pin", json: BackupsAPI.PinInput(pinned: true)).content.decode(BackupDTO.self, using: JSONDecoder.ferry)
            #expect(pinned.pinned)
            #expect(try await t.request(.DELETE, "/api/backups/\(b.id)").status == .noContent)
            #expect(try await t.request(.GET, "/api/backups/\(b.id)").status == .notFound)
            #expect(!t.app.backupStorage.manifests().contains { $0.backup == b.id })
            let audit = try await t.request(.GET, "/api/audit?action=backup.delete").json()["items"]?.listValue ?? []
            #expect(audit.contains { $0["target"]?.stringValue == b.id.key && $0["environment"]?.stringValue == "dev" }, "\(audit)")
            #expect(audit.count == 1, "one event per delete: \(audit)")
        }
    }

    @Test(arguments: Store.available)
    func hostileWrongAndOversizeUploadsStoreNothing(store: Store) async throws {
        try await withFerry(store, configure: { $0.maxUploadBytes = 200_000 }) { t in
            _ = try await t.createEnvironment(sample("dev"))
            let notZip = try await upload(t, Data("just text".utf8))
            #expect(notZip.status == .unprocessableEntity && notZip.body.string.contains("not a Superset export"), "\(notZip.body.string)")
            let slip = try await upload(t, try Self.zip([("x/metadata.yaml", "version: 1.0.0\ntype: Dashboard\n"), ("x/../../evil.yaml", "uuid: 1\n")]))
            #expect(slip.status == .unprocessableEntity, "\(slip.body.string)")
            let empty = try await upload(t, try Self.zip([("x/metadata.yaml", "version: 1.0.0\ntype: Dashboard\n")]))
            #expect(empty.status == .unprocessableEntity && empty.body.string.contains("no dashboard, chart or dataset"), "\(empty.body.string)")
            let bomb = try await upload(t, try Self.zip([("x/metadata.yaml", "version: 1.0.0\n"), ("x/charts/a.yaml", String(repeating: "a", count: 5_000_000))]))
            #expect(bomb.status == .unprocessableEntity, "\(bomb.body.string)")
            let big = try await t.request(.POST, "/api/backups/upload?environment=dev", headers: Self.zipHeaders, data: Data(count: 300_000), overNetwork: true)
            #expect(big.status == .payloadTooLarge, "\(big.body.string)")
            let unknown = try await upload(t, try Data(contentsOf: Self.fixture), env: "nowhere")
            #expect(unknown.status == .unprocessableEntity)
            #expect(try await BackupModel.query(on: t.app.db).count() == 0, "nothing stored")
            #expect(t.app.backupStorage.blobs().isEmpty && t.app.backupStorage.manifests().isEmpty)
        }
    }

    @Test(arguments: Store.available)
    func restoresAreValidatedAndACorruptBackupIsRefused(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("dev"))
            let up = try await upload(t, try Data(contentsOf: Self.fixture)).content.decode(BackupDTO.self, using: JSONDecoder.ferry)
            let invalid = try await t.request(.POST, "/api/restores", json: RestoreInput(backup: "nope", target: "mars", dashboards: ["not-a-uuid"]))
            #expect(invalid.status == .unprocessableEntity)
            let fields = Set((try invalid.json()["errors"]?.listValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["backup", "target", "dashboards"], "\(fields)")
            let row = try #require(try await BackupModel.find(up.id, on: t.app.db))
            row.verifyStatus = BackupVerifyStatus.corrupt.rawValue
            try await row.save(on: t.app.db)
            let refused = try await t.request(.POST, "/api/restores", json: RestoreInput(backup: up.id.key, target: "dev"))
            #expect(refused.status == .conflict && refused.body.string.contains("corrupt"))
            #expect(try await PromotionPlanModel.query(on: t.app.db).count() == 0, "no plan was made")
        }
    }

    @Test(arguments: Store.available)
    func policiesSetRetentionAndTheScheduleAndRefuseBadInput(store: Store) async throws {
        try await withFerry(store, tasks: true) { t in
            let env = try await t.createEnvironment(sample("dev"))
            let bad = try await t.request(.PUT, "/api/backups/policy", json: BackupPolicyInput(
                environment: "dev", retention: RetentionPolicy(keepLast: 0, daily: 1, weekly: 1, monthly: 1), schedule: BackupScheduleInput(cron: "61 * * * *")))
            #expect(bad.status == .unprocessableEntity)
            #expect(try await t.request(.PUT, "/api/backups/policy", json: BackupPolicyInput(
                environment: "dev", schedule: BackupScheduleInput(cron: "61 * * * *"))).status == .unprocessableEntity)
            let saved = try await t.request(.PUT, "/api/backups/policy", json: BackupPolicyInput(
                environment: "dev", retention: RetentionPolicy(keepLast: 2, daily: 0, weekly: 0, monthly: 0),
                schedule: BackupScheduleInput(cron: "0 2 * * *", timeZone: "Europe/Berlin")))
            #expect(saved.status == .ok, "\(saved.body.string)")
            let policy = try saved.content.decode(BackupPolicyDTO.self, using: JSONDecoder.ferry)
            #expect(policy.retention.keepLast == 2 && policy.schedule?.cron == "0 2 * * *" && policy.schedule?.timeZone == "Europe/Berlin")
            let schedules = try await ScheduleModel.query(on: t.app.db).filter(\.$pluginID == "backup.run").all()
            #expect(schedules.count == 1 && schedules.first?.params.contains(env.id.key) == true)
            // Saving again changes the same schedule.
            _ = try await t.request(.PUT, "/api/backups/policy", json: BackupPolicyInput(environment: env.id.key, schedule: BackupScheduleInput(cron: "30 3 * * *")))
            #expect(try await ScheduleModel.query(on: t.app.db).filter(\.$pluginID == "backup.run").all().map(\.cron) == ["30 3 * * *"])
            // The built-in retention and verify schedules exist.
            let names = Set(try await ScheduleModel.query(on: t.app.db).all().map(\.name))
            #expect(names.isSuperset(of: ["Backup retention", "Verify backups"]))

            // Retention: keep the last 2 of 4 uploads; the other two are deleted and audited.
            for i in 0..<4 {
                t.clock.advance(3600)
                var b = try BundleReader().read(try Data(contentsOf: Self.fixture))
                var c = try #require(b.charts.first)
                c.name = "v\(i)"
                b.insert(c)
                #expect(try await upload(t, try BundleWriter().write(b)).status == .created)
            }
            let r = try await BackupRetention.apply(environment: env.id, storage: t.app.backupStorage, now: t.clock.now(), newID: { UUID() }, grace: -1, on: t.app.db)
            // Each deleted backup's own chart version, and the one chunk of its asset list holding it.
            #expect(r.deleted.count == 2 && r.blobsRemoved == 4, "\(r)")
            #expect(try await BackupModel.query(on: t.app.db).count() == 2)
            let audit = try await t.request(.GET, "/api/audit?action=backup.delete").json()["items"]?.listValue ?? []
            #expect(audit.count == 2 && audit.allSatisfy { $0["detail"]?.stringValue?.hasPrefix("retention") == true && $0["actor"]?.stringValue == "ferry" })
        }
    }

    @Test(arguments: Store.available)
    func backupsFollowTheStoredEnvironmentsGrants(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("dev"))
            _ = try await t.createEnvironment(sample("prod", stage: "prod"))
            let fixture = try Data(contentsOf: Self.fixture)
            let prodBackup = try await upload(t, fixture, env: "prod").content.decode(BackupDTO.self, using: JSONDecoder.ferry)
            let devBackup = try await upload(t, fixture, env: "dev").content.decode(BackupDTO.self, using: JSONDecoder.ferry)
            let dev = bearer(try await t.limitedUser("devbk", grants: [
                "inventory:read@stage:dev", "backup:run@stage:dev", "restore:run@stage:dev", "tasks:read@stage:dev",
            ]))
            let listed = try await t.request(.GET, "/api/backups", headers: dev).json()["items"]?.listValue ?? []
            #expect(listed.compactMap { $0["id"]?.stringValue } .map { $0.lowercased() } == [devBackup.id.key])
            #expect(try await t.request(.GET, "/api/backups/\(prodBackup.id)", headers: dev).status == .forbidden)
            #expect(try await t.request(.GET, "/api/backups/\(prodBackup.id)/download", headers: dev).status == .forbidden)
            #expect(try await t.request(.GET, "/api/backups/\(prodBackup.id)/assets", headers: dev).status == .forbidden)
            #expect(try await t.request(.GET, "/api/backups/diff?from=\(devBackup.id)&to=\(prodBackup.id)", headers: dev).status == .forbidden)
            #expect(try await t.request(.DELETE, "/api/backups/\(prodBackup.id)", headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/backups/\(prodBackup.id)/pin", headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/backups/verify", json: BackupsAPI.VerifyInput(backup: prodBackup.id.key), headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/backups", json: BackupsAPI.RunInput(environment: "prod"), headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/backups/upload?environment=prod", headers: dev.merging(Self.zipHeaders), data: fixture).status == .forbidden)
            // Restoring the dev backup into prod, or the prod backup into dev: both refused.
            #expect(try await t.request(.POST, "/api/restores", json: RestoreInput(backup: devBackup.id.key, target: "prod"), headers: dev).status == .forbidden)
            #expect(try await t.request(.POST, "/api/restores", json: RestoreInput(backup: prodBackup.id.key, target: "dev"), headers: dev).status == .forbidden)
            #expect(try await BackupModel.query(on: t.app.db).count() == 2, "nothing changed")
            #expect(try await PromotionPlanModel.query(on: t.app.db).count() == 0)

            // Within dev, the restore grants are enough: plan it, and answer its task (it is judged
            // as a restore, restore:run on the target, not as a promotion's promote:plan).
            let own = try await t.request(.POST, "/api/restores", json: RestoreInput(backup: devBackup.id.key, target: "dev"), headers: dev)
            #expect(own.status == .accepted, "\(own.body.string)")
            let taskID = try #require(try own.json()["taskId"]?.stringValue)
            let answer = try await t.request(.POST, "/api/tasks/\(taskID)/input", json: BundleValue.map([:]), headers: dev)
            #expect(answer.status != .forbidden, "\(answer.body.string)")
            #expect(try await t.request(.GET, "/api/restores", headers: dev).json()["items"]?.listValue?.count == 1)
        }
    }

    @Test func anUnwritableStorageFailsTheBackupWithWhatToDo() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-not-a-folder-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await withFerry(.sqlite, tasks: true, configure: { $0.storagePath = file + "/storage" }) { t in
            _ = try await t.createEnvironment(sample("dev"))
            let res = try await t.request(.POST, "/api/backups", json: BackupsAPI.RunInput(environment: "dev"))
            #expect(res.status == .accepted)
            let id = try #require(try res.json()["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
            let task = try await t.waitFor(id, [.failed, .succeeded])
            #expect(task.status == .failed)
            #expect(task.error?.contains(file) == true, "\(task.error ?? "")")
            #expect(task.nextAction?.contains("FERRY_STORAGE") == true)
            let upload = try await upload(t, try Data(contentsOf: Self.fixture))
            #expect(upload.status == .serviceUnavailable && upload.body.string.contains("FERRY_STORAGE"), "\(upload.body.string)")
            #expect(try await BackupModel.query(on: t.app.db).count() == 0)
        }
    }

    @Test(arguments: Store.available)
    func aDeletedEnvironmentsBackupRestoresElsewhere(store: Store) async throws {
        try await withFerry(store) { t in
            _ = try await t.createEnvironment(sample("dev"))
            let old = try await t.createEnvironment(sample("retired"))
            let backup = try await upload(t, try Data(contentsOf: Self.fixture), env: "retired").content.decode(BackupDTO.self, using: JSONDecoder.ferry)
            #expect(try await t.request(.DELETE, "/api/environments/\(old.id)").status == .noContent)
            let shown = try await t.request(.GET, "/api/backups/\(backup.id)").json()
            #expect(shown["environment"]?.stringValue?.hasPrefix("deleted:") == true)
            let restore = try await t.request(.POST, "/api/restores", json: RestoreInput(backup: backup.id.key, target: "dev"))
            #expect(restore.status == .accepted, "\(restore.body.string)")
            let plan = try #require(try await PromotionPlanModel.query(on: t.app.db).first())
            #expect(plan.taskID != nil && plan.sourceEnvID == old.id && plan.sourceBackupID == backup.id)
        }
    }
}
