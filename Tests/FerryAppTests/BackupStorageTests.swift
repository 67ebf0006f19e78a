import Foundation
import SupersetKit
import Testing

@testable import FerryApp

/// The content-addressed storage, manifests, retention and collection, on a temporary folder.
@Suite struct BackupStorageTests {
    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ferry-storage-\(UUID().uuidString)").path
    }

    static func entry(_ kind: AssetKind, _ uuid: String, hash: String, refs: [String] = []) -> BackupManifest.Entry {
        .init(kind: kind, uuid: uuid, name: "\(kind.rawValue) \(uuid.prefix(4))", hash: hash, size: 1, changedOn: nil, refs: refs)
    }

    @Test func storesEachContentOnceAndNamesItByItsHash() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = BackupStorage(root: dir)
        try storage.prepare()
        let first = try storage.put(Data("slice_name: A\n".utf8))
        let again = try storage.put(Data("slice_name: A\n".utf8))
        let other = try storage.put(Data("slice_name: B\n".utf8))
        #expect(first.isNew && !again.isNew && other.isNew)
        #expect(first.hash == again.hash && first.hash != other.hash)
        #expect(first.hash == Checksum.sha256Hex(Data("slice_name: A\n".utf8)))
        #expect(try storage.blob(first.hash) == Data("slice_name: A\n".utf8))
        #expect(Set(storage.blobs().map(\.hash)) == [first.hash, other.hash])
        // Written through tmp/ and renamed: nothing is left there but the clock marker.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp").filter { $0 != ".clock" }
        #expect(leftovers.isEmpty)
        let mode = try FileManager.default.attributesOfItem(atPath: storage.blobURL(first.hash).path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func deflateRoundTripsAndRefusesGarbageAndBombsWithoutCrashing() throws {
        let text = Data(String(repeating: "{\"kind\":\"chart\",\"uuid\":\"x\"}", count: 5_000).utf8)
        let packed = try Deflate.compress(text)
        #expect(packed.count < text.count / 10)
        #expect(try Deflate.decompress(packed, limit: text.count) == text)
        #expect(throws: (any Error).self) { try Deflate.decompress(packed, limit: text.count / 2) }
        #expect(throws: (any Error).self) { try Deflate.decompress(Data((0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }), limit: 1 << 20) }
        #expect(throws: (any Error).self) { try Deflate.decompress(Data(), limit: 10) }
        #expect(throws: (any Error).self) { try Deflate.decompress(packed.prefix(packed.count / 2), limit: text.count) }
    }

    @Test func corruptAndMissingBlobsAreNamedAndAFullBackupHealsThem() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = BackupStorage(root: dir)
        try storage.prepare()
        let data = Data("dashboard_title: Sales\n".utf8)
        let (hash, _, _) = try storage.put(data)
        try Data("dashboard_title: Salez\n".utf8).write(to: storage.blobURL(hash))
        #expect(storage.check(hash) == .corrupt)
        #expect(throws: BackupStorage.Failure.self) { try storage.blob(hash) }
        // Same size, so a plain put keeps it; a repairing put (a full backup) rewrites it.
        #expect(try storage.put(data).isNew == false)
        #expect(storage.check(hash) == .corrupt)
        #expect(try storage.put(data, repair: true).isNew == true)
        #expect(storage.check(hash) == .ok)
        storage.removeBlob(hash)
        #expect(storage.check(hash) == .missing)
        #expect(storage.check("../../etc/passwd") == .missing)
    }

    @Test func anUnusableStorageSaysWhatToDo() throws {
        let file = Self.folder()
        FileManager.default.createFile(atPath: file, contents: Data("not a folder".utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let storage = BackupStorage(root: file + "/storage")
        let error = try #require(throws: BackupStorage.Failure.self) { try storage.prepare() }
        #expect(error.message.contains(file))
        #expect(error.next.contains("FERRY_STORAGE"))
    }

    @Test func aManifestIsSealedItsChunksSharedAndATamperedOneIsRefused() async throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = BackupStorage(root: dir)
        try storage.prepare()
        let h = String(repeating: "a", count: 64)
        let assets = (0..<300).map { i in Self.entry(.chart, String(format: "%02x", i % 256) + "-\(i)", hash: h) }
        var manifest = BackupManifest(backup: UUID(), environment: UUID(), environmentName: "dev", createdAt: Date(timeIntervalSince1970: 1_800_000_000),
                                      supersetVersion: "6.1.0", full: true, origin: .task, basedOn: nil, assets: assets, newBytes: 1)
        var row = try await Self.record(&manifest, storage)
        #expect(manifest.checksum.count == 64 && manifest.chunks.count == 256)
        #expect(manifest.newBytes > 1, "the chunks are new bytes")
        let loaded = try BackupManifest.load(row, expected: manifest.checksum, storage: storage)
        #expect(loaded.assets == manifest.assets && loaded.counts.charts == 300 && loaded.totalBytes == 300)
        #expect(try BackupManifest.open(row, expected: nil).assets.isEmpty, "the header alone holds no asset list")

        // One asset changed: one new chunk, the other 255 shared.
        var next = BackupManifest(backup: UUID(), environment: manifest.environment, environmentName: "dev", createdAt: manifest.createdAt,
                                  supersetVersion: "6.1.0", full: false, origin: .task, basedOn: manifest.backup,
                                  assets: assets.enumerated().map { i, e in var e = e; if i == 7 { e.hash = String(repeating: "b", count: 64) }; return e },
                                  newBytes: 0)
        row = try await Self.record(&next, storage)
        #expect(Set(next.chunks).subtracting(manifest.chunks).count == 1)
        #expect(next.newBytes > 0 && next.newBytes < 2_000)

        let tampered = Data(String(decoding: row, as: UTF8.self).replacingOccurrences(of: "\"dev\"", with: "\"prod\"").utf8)
        #expect(throws: BackupStorage.Failure.self) { try BackupManifest.open(tampered, expected: nil) }
        #expect(throws: BackupStorage.Failure.self) { try BackupManifest.open(row, expected: String(repeating: "0", count: 64)) }
        // A chunk gone: the asset list can't be read, and says so.
        storage.removeBlob(Set(next.chunks).subtracting(manifest.chunks).first!)
        #expect(throws: BackupStorage.Failure.self) { try BackupManifest.load(row, expected: nil, storage: storage) }
    }

    /// Writes the chunks and the header as `BackupService.record` does (without a row); returns the header.
    static func record(_ manifest: inout BackupManifest, _ storage: BackupStorage) async throws -> Data {
        let chunks = try storage.putAll(try manifest.chunkFiles())
        manifest.chunks = chunks.map(\.hash)
        manifest.newBytes += Int64(chunks.filter(\.isNew).reduce(0) { $0 + $1.size })
        let data = try manifest.sealed()
        try storage.writeManifest(data, environment: manifest.environment, backup: manifest.backup)
        return data
    }

    @Test func aSelectionsClosureFollowsReferencesDownward() {
        let h = String(repeating: "b", count: 64)
        let manifest = BackupManifest(
            backup: UUID(), environment: UUID(), environmentName: "dev", createdAt: Date(), supersetVersion: "6.1.0", full: true, origin: .task,
            basedOn: nil, assets: [
                Self.entry(.dashboard, "d1", hash: h, refs: ["c1", "c2", "s2"]), Self.entry(.dashboard, "d2", hash: h, refs: ["c3"]),
                Self.entry(.chart, "c1", hash: h, refs: ["s1"]), Self.entry(.chart, "c2", hash: h, refs: ["s1"]), Self.entry(.chart, "c3", hash: h, refs: ["s3"]),
                Self.entry(.dataset, "s1", hash: h, refs: ["db1"]), Self.entry(.dataset, "s2", hash: h, refs: ["db1"]), Self.entry(.dataset, "s3", hash: h, refs: ["db2"]),
                Self.entry(.database, "db1", hash: h), Self.entry(.database, "db2", hash: h),
            ], newBytes: 0)
        let one = manifest.closure(dashboards: ["d1"], charts: [], datasets: [])
        #expect(Set(one.entries.map(\.uuid)) == ["d1", "c1", "c2", "s1", "s2", "db1"])
        #expect(one.missing.isEmpty)
        let chart = manifest.closure(dashboards: [], charts: ["c3"], datasets: ["nope"])
        #expect(Set(chart.entries.map(\.uuid)) == ["c3", "s3", "db2"])
        #expect(chart.missing == ["nope"])
        #expect(manifest.closure(dashboards: [], charts: [], datasets: []).entries.count == 10, "no selection: everything")
    }

    @Test func retentionKeepsLastDailyWeeklyMonthlyAndPinned() {
        // Two backups a day for 120 days, newest first at day 0.
        let start = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01T00:00:00Z
        var backups: [(id: UUID, createdAt: Date, pinned: Bool)] = []
        for day in 0..<120 {
            for hour in [2, 14] { backups.append((UUID(), start.addingTimeInterval(-Double(day) * 86_400 + Double(hour) * 3600), false)) }
        }
        let pinned = (UUID(), start.addingTimeInterval(-400 * 86_400), true)
        backups.append(pinned)
        let policy = RetentionPolicy(keepLast: 3, daily: 7, weekly: 4, monthly: 3)
        let kept = policy.kept(backups)
        let newest = backups.sorted { $0.createdAt > $1.createdAt }
        #expect(kept.isSuperset(of: newest.prefix(3).map(\.id)), "the last 3")
        #expect(kept.contains(pinned.0), "pinned is kept forever")
        // last 3 (days 0, 0, -1) + the newest of 7 days (days 0..-6: 5 new) + 4 weeks + 3 months, overlapping.
        #expect(kept.count <= 3 + 7 + 4 + 3 + 1 && kept.count >= 10, "\(kept.count)")
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let keptDays = Set(backups.filter { kept.contains($0.id) && !$0.pinned }.map { calendar.startOfDay(for: $0.createdAt) })
        for day in 0..<7 { #expect(keptDays.contains(calendar.startOfDay(for: start.addingTimeInterval(-Double(day) * 86_400))), "day -\(day)") }
        #expect(!kept.contains(newest[newest.count - 2].id), "an old unpinned backup goes")
        #expect(RetentionPolicy(keepLast: 0, daily: 0, weekly: 0, monthly: 0).validate().map(\.field) == ["keepLast"])
        #expect(RetentionPolicy(keepLast: 1, daily: -1, weekly: 2000, monthly: 0).validate().map(\.field) == ["daily", "weekly"])
    }

    @Test(arguments: Store.available)
    func collectionRemovesOrphansAfterTheGraceAndKeepsWhatAListedBackupNeeds(store: Store) async throws {
        try await withFerry(store) { t in
            let storage = t.app.backupStorage
            try storage.prepare()
            let env = try await t.createEnvironment(sample("dev"))
            let kept = try storage.put(Data("kept".utf8)), orphan = try storage.put(Data("orphan".utf8))
            var manifest = BackupManifest(backup: UUID(), environment: env.id, environmentName: "dev", createdAt: t.clock.now(), supersetVersion: "6.1.0",
                                          full: true, origin: .task, basedOn: nil, assets: [Self.entry(.chart, "c1", hash: kept.hash)], newBytes: 4)
            _ = try await BackupService.record(&manifest, storage: storage, taskID: nil, createdBy: "t", on: t.app.db)
            // A backup killed between its manifest and its row: a manifest without a row.
            var killed = BackupManifest(backup: UUID(), environment: env.id, environmentName: "dev", createdAt: t.clock.now(), supersetVersion: "6.1.0",
                                        full: true, origin: .task, basedOn: nil, assets: [Self.entry(.chart, "c2", hash: orphan.hash)], newBytes: 6)
            _ = try await Self.record(&killed, storage)
            let killedChunks = killed.chunks

            let fresh = try await BackupRetention.collect(storage: storage, grace: 3600, on: t.app.db)
            #expect(fresh.blobsRemoved == 0 && fresh.manifestsRemoved == 0, "within the grace, a backup may still be writing")
            let collected = try await BackupRetention.collect(storage: storage, grace: -1, on: t.app.db)
            #expect(collected.blobsRemoved == 1 + killedChunks.count && collected.manifestsRemoved == 1, "\(collected)")
            #expect(storage.check(kept.hash) == .ok && storage.check(orphan.hash) == .missing)
            #expect(killedChunks.allSatisfy { storage.check($0) == .missing })
            #expect(storage.manifests().map(\.backup) == [manifest.backup])
            let listed = try await t.request(.GET, "/api/backups").json()["items"]?.listValue ?? []
            #expect(listed.count == 1)
        }
    }
}
