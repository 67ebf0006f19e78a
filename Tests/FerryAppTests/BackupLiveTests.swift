import Foundation
import SupersetKit
import Testing
import VaporTesting

@testable import FerryApp

/// Backups and restores end to end against the two real Supersets of scripts/test.
///
/// Each run makes its own "probe" dashboard on dev (a copy of sales-overview with new uuids, its
/// charts on a virtual dataset of its own, so no other test sees or touches it), backs dev up,
/// changes, deletes and restores it, and restores it into prod through the database mapping.
@Suite(.serialized, .enabled(if: LiveSuperset.enabled, "needs the real Superset instances of scripts/test"))
struct BackupLiveTests {
    struct Probe {
        var suffix: String
        var dashboard: String
        var charts: [String]
        var dataset: String
        var title: String { "Backup probe \(suffix)" }
    }

    /// Imports a private copy of sales-overview into dev: new uuids for the dashboard, its charts
    /// and a virtual dataset over the same table; no native filters (their chart ids would still
    /// name sales-overview's charts).
    static func makeProbe(on dev: SupersetClient, manifest: BundleValue) async throws -> Probe {
        let overview = try #require(manifest["dashboards"]?["sales-overview"]?["id"]?.intValue)
        let source = try await dev.export(.dashboard, ids: [overview])
        let suffix = String(UUID().uuidString.prefix(8)).lowercased()
        var renames: [String: String] = [:]
        for asset in source.dashboards + source.charts + source.datasets { renames[asset.uuid] = UUID().uuidString.lowercased() }
        func renamed(_ asset: Asset) throws -> Asset {
            var text = BundleValue.map(asset.fields).jsonText()
            for (old, new) in renames { text = text.replacingOccurrences(of: old, with: new) }
            guard case .map(let fields) = try BundleValue.parseJSON(text) else { throw TaskFailure("bad asset", next: "") }
            return Asset(kind: asset.kind, fields: fields)
        }
        var bundle = AssetBundle()
        for db in source.databases { bundle.insert(db) }
        var charts: [String] = []
        for (i, chart) in source.charts.enumerated() {
            var c = try renamed(chart)
            c.name = "Probe chart \(i + 1) \(suffix)"
            charts.append(c.uuid)
            bundle.insert(c)
        }
        let dataset = try #require(source.datasets.first)
        var d = try renamed(dataset)
        d.name = "backup_probe_\(suffix)"
        d["sql"] = .string("SELECT * FROM \(dataset.name)")
        bundle.insert(d)
        // sales-overview was saved without uuids in its layout: put them on the placed nodes first
        // (as a promotion does), so the copy's layout names the copy's charts.
        var original = try #require(source.dashboards.first)
        BundleRewriter.repairLayout(&original)
        var dash = try renamed(original)
        dash.name = "Backup probe \(suffix)"
        dash["slug"] = .string("backup-probe-\(suffix)")
        if case .map(var metadata) = dash["metadata"] ?? .map([:]) {
            for key in ["native_filter_configuration", "chart_configuration", "global_chart_configuration", "filter_scopes"] { metadata.removeValue(forKey: key) }
            dash["metadata"] = .map(metadata)
        }
        bundle.insert(dash)
        try await dev.importBundle(bundle, as: .dashboard, overwrite: true)
        return Probe(suffix: suffix, dashboard: dash.uuid, charts: charts, dataset: d.uuid)
    }

    static func cleanUp(_ probe: Probe, on client: SupersetClient) async {
        if let id = try? await client.idsByUUID(.dashboard)[probe.dashboard] { try? await client.delete(.dashboard, id: id) }
        let charts = (try? await client.idsByUUID(.chart)) ?? [:]
        for c in probe.charts { if let id = charts[c] { try? await client.delete(.chart, id: id) } }
        if let id = try? await client.idsByUUID(.dataset)[probe.dataset] { try? await client.delete(.dataset, id: id) }
    }

    @Test(arguments: Store.available)
    func backUpChangeDeleteRestoreAndRestoreIntoProd(store: Store) async throws {
        let devURL = try LiveSuperset.url("dev"), prodURL = try LiveSuperset.url("prod")
        let dev = PromotionLiveTests.client(devURL), prod = PromotionLiveTests.client(prodURL)
        let probe = try await Self.makeProbe(on: dev, manifest: try LiveSuperset.manifest("dev"))
        defer { Task { await Self.cleanUp(probe, on: dev); await Self.cleanUp(probe, on: prod) } }
        let prodDatabasesBefore = try await prod.databaseRefs()

        try await withFerry(store, tasks: true) { t in
            _ = try await t.createEnvironment(sample("dev", password: "admin", url: devURL))
            _ = try await t.createEnvironment(sample("prod", password: "admin", url: prodURL, stage: "prod"))

            // 1. The first backup is full, and holds the probe with everything it uses.
            let first = try await t.backup("dev")
            #expect(first.summary["full"]?.boolValue == true)
            let firstBackup = try #require(first.backup)
            #expect(firstBackup.counts.dashboards >= 123 && firstBackup.counts.charts >= 6 && firstBackup.counts.databases >= 2)
            #expect(firstBackup.newBytes > firstBackup.totalBytes, "a fresh storage: every asset file and manifest chunk is new")
            #expect(firstBackup.origin == "task" && firstBackup.verifyStatus == "unverified")
            let firstAssets = try await t.assets(firstBackup.id)
            #expect(firstAssets[probe.dashboard] != nil && probe.charts.allSatisfy { firstAssets[$0] != nil } && firstAssets[probe.dataset] != nil)
            // Connections are kept without passwords.
            let whole = try await t.request(.GET, "/api/backups/\(firstBackup.id)/download")
            #expect(whole.status == .ok && whole.headers.contentType == .zip)
            let wholeBundle = try BundleReader().read(Data(buffer: whole.body))
            #expect(wholeBundle.databases.allSatisfy { !($0.string("sqlalchemy_uri") ?? "").contains("warehouse-secret") })
            #expect(wholeBundle.dashboards.count == firstBackup.counts.dashboards)

            // 2. Change one chart; the next backup exports only what changed.
            let chartIDs = try await dev.idsByUUID(.chart)
            let changed = try #require(chartIDs[probe.charts[0]])
            try await dev.sendJSON("PUT", "/api/v1/chart/\(changed)", body: .map(["slice_name": .string("Probe chart 1 \(probe.suffix) v2")]))
            let second = try await t.backup("dev")
            let secondBackup = try #require(second.backup)
            #expect(second.summary["full"]?.boolValue == false)
            let exported = second.summary["exported"]?.intValue ?? -1
            let secondLog = try await t.logs(second.task.id).items.map(\.message)
            #expect(exported >= 1 && exported < firstBackup.counts.total / 4, "only what changed is exported: \(exported) \(secondLog)")
            let secondAssets = try await t.assets(secondBackup.id)
            #expect(secondAssets[probe.charts[0]]?.hash != firstAssets[probe.charts[0]]?.hash, "the changed chart is stored anew")
            #expect(secondAssets[probe.dashboard]?.hash == firstAssets[probe.dashboard]?.hash, "the untouched dashboard costs nothing")
            #expect(secondAssets[probe.charts[1]]?.hash == firstAssets[probe.charts[1]]?.hash)
            // Small beside the whole (a full store would be about all of it). Not a tenth: other
            // tests add and remove probe dashboards on dev meanwhile, and each is new here too.
            #expect(secondBackup.newBytes > 0 && secondBackup.newBytes < secondBackup.totalBytes / 4, "\(secondBackup.newBytes) of \(secondBackup.totalBytes)")
            let diff = try await t.request(.GET, "/api/backups/diff?from=\(firstBackup.id)&to=\(secondBackup.id)").json()
            let change = diff["changed"]?.listValue?.first { $0["uuid"]?.stringValue == probe.charts[0] }
            #expect(change?["fields"]?.listValue?.compactMap(\.stringValue).contains("slice_name") == true, "\(diff)")

            // 3. Verify both: intact.
            let verified = try await t.verify(nil)
            #expect(verified.status == .succeeded, "\(verified.error ?? "")")
            #expect(try await t.backupDTO(firstBackup.id).verifyStatus == "verified")

            // 4. Delete the probe dashboard in dev, then restore it from the first backup.
            let dashboardID = try #require(try await dev.idsByUUID(.dashboard)[probe.dashboard])
            try await dev.delete(.dashboard, id: dashboardID)
            let restore = try await t.restore(RestoreInput(backup: firstBackup.id.key, target: "dev", dashboards: [probe.dashboard]))
            let plan = try await t.finishedPlan(restore)
            #expect(plan.status == .ready, "\(plan.error ?? "")")
            #expect(plan.sourceBackupId == firstBackup.id)
            #expect(plan.items.contains { $0.kind == .dashboard && $0.uuid == probe.dashboard && $0.action == .create })
            #expect(plan.items.contains { $0.kind == .chart && $0.uuid == probe.charts[0] && $0.action == .update }, "the renamed chart goes back")
            #expect(plan.mappings.allSatisfy { $0.source.uuid == $0.target.uuid }, "into its own environment, each connection maps to itself")
            let applied = try await t.apply(plan.id, acceptShared: true)
            let appliedTask = try await t.waitFor(applied.taskId, [.succeeded, .partial, .failed])
            let appliedReport = try await t.request(.GET, "/api/promotions/\(applied.id)").json()["report"]
            #expect(appliedTask.status == .succeeded, "\(appliedTask.error ?? "") \(appliedReport?.jsonText() ?? "")")
            let back = try #require(try await dev.idsByUUID(.dashboard)[probe.dashboard], "the deleted dashboard is back")
            #expect(try await dev.dashboardDetail(id: back).title == probe.title)
            let restoredChart = try await dev.getJSON("/api/v1/chart/\(changed)")["result"]?["slice_name"]?.stringValue
            #expect(restoredChart == "Probe chart 1 \(probe.suffix)")

            // 5. Restore the probe from the dev backup into prod, through the mapping: prod's
            //    connections untouched, every chart querying prod's data.
            let devSales = try #require(wholeBundle.databases.first { $0.name == "Sales" })
            let prodSales = try #require(prodDatabasesBefore.first { $0.name == "Sales" })
            let mapped = try await t.request(.PUT, "/api/mappings", json: MappingInput(
                source: "dev", target: "prod", sourceDatabaseUuid: devSales.uuid, sourceDatabaseName: "Sales",
                targetDatabaseUuid: prodSales.uuid, targetDatabaseName: "Sales"))
            #expect(mapped.status == .ok, "\(mapped.body.string)")
            let intoProd = try await t.finishedPlan(try await t.restore(RestoreInput(backup: firstBackup.id.key, target: "prod", dashboards: [probe.dashboard])))
            #expect(intoProd.status == .ready, "\(intoProd.error ?? "")")
            #expect(intoProd.mappings.map(\.target.uuid) == [prodSales.uuid])
            let prodApplied = try await t.apply(intoProd.id, acceptShared: true)
            let prodTask = try await t.waitFor(prodApplied.taskId, [.succeeded, .partial, .failed])
            #expect(prodTask.status == .succeeded, "\(prodTask.error ?? "")")
            let promotion = try await t.request(.GET, "/api/promotions/\(prodApplied.id)").content.decode(PromotionDTO.self, using: JSONDecoder.ferry)
            #expect(promotion.report?["passed"]?.boolValue == true)
            #expect(promotion.report?["chartsChecked"]?.intValue == probe.charts.count)
            #expect(try await prod.databaseRefs() == prodDatabasesBefore, "prod's connections are untouched")
            let prodDataset = try #require(try await prod.idsByUUID(.dataset)[probe.dataset])
            let prodDatasetDB = try await prod.getJSON("/api/v1/dataset/\(prodDataset)")["result"]?["database"]?["id"]?.intValue
            #expect(prodDatasetDB == prodSales.id, "the restored dataset reads prod's own Sales")

            // 6. A corrupt blob: verify names the asset, the backup is marked, restore refuses it.
            //    A filler dashboard: no test changes it, so the next full backup exports the same bytes.
            let storage = t.app.backupStorage
            let filler = try #require(firstAssets.values.first { $0.kind == .dashboard && $0.name.lowercased().contains("filler") })
            let blob = filler.hash
            try Data(String(repeating: "x", count: filler.size).utf8).write(to: storage.blobURL(blob))
            let broken = try await t.verify(firstBackup.id)
            #expect(broken.status == .partial)
            let marked = try await t.backupDTO(firstBackup.id)
            #expect(marked.verifyStatus == "corrupt")
            #expect(marked.problems.contains { $0.uuid == filler.uuid && $0.name == filler.name && $0.problem == "corrupt" }, "\(marked.problems)")
            let refused = try await t.request(.POST, "/api/restores", json: RestoreInput(backup: firstBackup.id.key, target: "dev"))
            #expect(refused.status == .conflict && refused.body.string.contains("corrupt"))
            // A full backup rewrites the blobs it exports that no longer match their names.
            let healed = try await t.backup("dev", full: true)
            #expect(healed.summary["full"]?.boolValue == true)
            #expect(storage.check(blob) == .ok, "the full backup healed the corrupt blob")
        }
    }

    @Test func aSupersetFailingMidBackupFailsTheTaskAndListsNothing() async throws {
        let devURL = try LiveSuperset.url("dev")
        let fake = try await FakeSuperset.start(.proxy(to: devURL, dieAfterImports: nil))
        fake.exportsBeforeDeath = 2
        do {
            try await withFerry(.sqlite, tasks: true, configure: { $0.backupCollectGrace = 0 }) { t in
                var input = sample("flaky", password: "admin", url: fake.url)
                input.parallelRequests = 1
                _ = try await t.createEnvironment(input)
                let res = try await t.request(.POST, "/api/backups", json: BackupsAPI.RunInput(environment: "flaky", full: true))
                #expect(res.status == .accepted, "\(res.body.string)")
                let taskID = try #require(try res.json()["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
                let task = try await t.waitFor(taskID, [.succeeded, .failed])
                #expect(task.status == .failed)
                #expect(task.error?.contains("503") == true || task.error?.lowercased().contains("superset") == true, "\(task.error ?? "")")
                let listed = try await t.request(.GET, "/api/backups").json()["items"]?.listValue ?? []
                #expect(listed.isEmpty, "nothing partial is listed")
                // What it wrote before failing is unreferenced: collection removes it.
                let storage = t.app.backupStorage
                #expect(!storage.blobs().isEmpty, "the first batches were stored before Superset died")
                let retention = try await t.request(.POST, "/api/tasks", json: BundleValue.map(["plugin": .string("backup.retention"), "params": .map([:])]))
                #expect(retention.status == .accepted || retention.status == .created, "\(retention.body.string)")
                let retentionID = try #require(try retention.json()["id"]?.stringValue.flatMap(UUID.init(uuidString:)))
                #expect(try await t.waitFor(retentionID, [.succeeded, .failed]).status == .succeeded)
                #expect(storage.blobs().isEmpty)
            }
        } catch {
            await fake.stop()
            throw error
        }
        await fake.stop()
    }
}

struct BackupRun {
    var task: TaskDTO
    var summary: BundleValue
    var backup: BackupDTO?
}

extension TestHarness {
    /// Runs `backup.run` through the API and waits for it.
    func backup(_ environment: String, full: Bool? = nil) async throws -> BackupRun {
        let res = try await request(.POST, "/api/backups", json: BackupsAPI.RunInput(environment: environment, full: full))
        #expect(res.status == .accepted, "\(res.body.string)")
        let id = try #require(try res.json()["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
        let task = try await waitFor(id, [.succeeded, .failed, .partial])
        #expect(task.status == .succeeded, "\(task.error ?? "") \(task.step)")
        let summary = task.result ?? .map([:])
        let backup = try await summary["backup"]?.stringValue.flatMap(UUID.init(uuidString:)).asyncMap { try await backupDTO($0) }
        return BackupRun(task: task, summary: summary, backup: backup)
    }

    func backupDTO(_ id: UUID) async throws -> BackupDTO {
        try await request(.GET, "/api/backups/\(id)").content.decode(BackupDTO.self, using: JSONDecoder.ferry)
    }

    /// A backup's assets by uuid.
    func assets(_ id: UUID) async throws -> [String: BackupAssetDTO] {
        let page = try await request(.GET, "/api/backups/\(id)/assets?per_page=200&page=1").content.decode(BackupsAPI.AssetsResponse.self, using: JSONDecoder.ferry)
        var out: [String: BackupAssetDTO] = [:]
        var items = page.items
        var next = 2
        while items.count < page.total {
            let more = try await request(.GET, "/api/backups/\(id)/assets?per_page=200&page=\(next)").content.decode(BackupsAPI.AssetsResponse.self, using: JSONDecoder.ferry)
            if more.items.isEmpty { break }
            items += more.items
            next += 1
        }
        for a in items { out[a.uuid] = a }
        return out
    }

    func verify(_ backup: UUID?) async throws -> TaskDTO {
        let res = try await request(.POST, "/api/backups/verify", json: BackupsAPI.VerifyInput(backup: backup?.key))
        #expect(res.status == .accepted, "\(res.body.string)")
        let id = try #require(try res.json()["taskId"]?.stringValue.flatMap(UUID.init(uuidString:)))
        return try await waitFor(id, [.succeeded, .failed, .partial])
    }

    func restore(_ input: RestoreInput) async throws -> Queued {
        let res = try await request(.POST, "/api/restores", json: input)
        #expect(res.status == .accepted, "\(res.body.string)")
        return try res.content.decode(Queued.self, using: JSONDecoder.ferry)
    }
}
