import Fluent
import Foundation
import SQLKit
import SupersetKit

/// Backups as the API, pages and plugins see them: record, list, read, pin, delete, upload,
/// diff and download. Restores are promotions (`PromotionService.restore`).
///
/// Every function gets the store, the storage and the clock as arguments; authorisation is the
/// caller's (`Request+Backups.swift`), decided on the stored row.
enum BackupService {
    /// Seals `manifest`, writes it (atomically), then inserts its row: the row is last, so a
    /// backup cut short is never listed. Returns the row.
    static func record(_ manifest: inout BackupManifest, storage: BackupStorage, taskID: UUID?, createdBy: String, on db: any Database) async throws
        -> BackupModel
    {
        do {
            let files = try manifest.chunkFiles()
            let chunks = try await storage.offload { try storage.putAll(files) }
            manifest.chunks = chunks.map(\.hash)
            manifest.newBytes += Int64(chunks.filter(\.isNew).reduce(0) { $0 + $1.size })
            let data = try manifest.sealed()
            try storage.writeManifest(data, environment: manifest.environment, backup: manifest.backup)
        } catch let f as BackupStorage.Failure {
            throw f.taskFailure
        }
        let row = BackupModel()
        row.id = manifest.backup
        row.environmentID = manifest.environment
        row.createdAt = manifest.createdAt
        row.supersetVersion = manifest.supersetVersion
        row.full = manifest.full
        row.origin = manifest.origin.rawValue
        row.dashboards = manifest.counts.dashboards
        row.charts = manifest.counts.charts
        row.datasets = manifest.counts.datasets
        row.databases = manifest.counts.databases
        row.totalBytes = manifest.totalBytes
        row.newBytes = manifest.newBytes
        row.manifestChecksum = manifest.checksum
        row.pinned = false
        row.verifyStatus = BackupVerifyStatus.unverified.rawValue
        row.taskID = taskID
        row.createdBy = createdBy
        try await row.create(on: db)
        return row
    }

    /// The newest backup of an environment (of one origin when given).
    static func latest(environment: UUID, origin: BackupOrigin? = nil, on db: any Database) async throws -> BackupModel? {
        var q = BackupModel.query(on: db).filter(\.$environmentID == environment)
        if let origin { q = q.filter(\.$origin == origin.rawValue) }
        return try await q.sort(\.$createdAt, .descending).first()
    }

    /// The newest full backup Ferry took of an environment.
    static func latestFull(environment: UUID, on db: any Database) async throws -> BackupModel? {
        try await BackupModel.query(on: db).filter(\.$environmentID == environment).filter(\.$full == true)
            .filter(\.$origin == BackupOrigin.task.rawValue).sort(\.$createdAt, .descending).first()
    }

    /// A backup's manifest, checked against its own checksum and the row's.
    static func manifest(of row: BackupModel, storage: BackupStorage) throws -> BackupManifest {
        try BackupManifest.load(try storage.manifestData(environment: row.environmentID, backup: row.id!), expected: row.manifestChecksum, storage: storage)
    }

    /// `manifest(of:)` for a request: a damaged manifest is a 409 that says so.
    static func readableManifest(of row: BackupModel, storage: BackupStorage) throws -> BackupManifest {
        do { return try manifest(of: row, storage: storage) } catch let f as BackupStorage.Failure {
            throw AppError(.conflict, code: "backup_corrupt", detail: "\(f.message) \(f.next)")
        }
    }

    static func find(_ id: UUID, on db: any Database) async throws -> BackupModel {
        guard let row = try await BackupModel.find(id, on: db) else { throw AppError.notFound(.backup, "\(id.key)") }
        return row
    }

    /// A page of backups, newest first: of one environment, or of those in `visible`.
    static func list(environment: UUID?, visible: Set<UUID>?, page: Paging, on db: any Database) async throws -> [BackupModel] {
        var q = BackupModel.query(on: db).sort(\.$createdAt, .descending)
        if let environment { q = q.filter(\.$environmentID == environment) }
        if let visible { q = q.filter(\.$environmentID ~~ Array(visible)) }
        return try await q.range(page.range).all()
    }

    /// Backup counts and sizes per environment (for the storage browser's first page).
    static func summary(visible: Set<UUID>?, on db: any Database) async throws -> [UUID: (count: Int, bytes: Int64, newBytes: Int64, latest: Date?, corrupt: Int)] {
        var q = BackupModel.query(on: db)
        if let visible { q = q.filter(\.$environmentID ~~ Array(visible)) }
        var out: [UUID: (Int, Int64, Int64, Date?, Int)] = [:]
        for row in try await q.all() {
            var s = out[row.environmentID] ?? (0, 0, 0, nil, 0)
            s.0 += 1
            s.1 += row.totalBytes
            s.2 += row.newBytes
            s.3 = max(s.3 ?? row.createdAt, row.createdAt)
            if row.verifyStatus == BackupVerifyStatus.corrupt.rawValue { s.4 += 1 }
            out[row.environmentID] = s
        }
        return out
    }

    static func setPinned(_ row: BackupModel, _ pinned: Bool, on db: any Database) async throws {
        row.pinned = pinned
        try await row.save(on: db)
    }

    /// Deletes a backup: its row, then its manifest (blobs are collected by retention). The
    /// caller audits it (a request through its audit note; retention itself).
    static func delete(_ row: BackupModel, storage: BackupStorage, on db: any Database) async throws {
        try await row.delete(on: db)
        storage.removeManifest(environment: row.environmentID, backup: row.id!)
    }

    /// What the audit log says of a deleted backup.
    static func describe(_ row: BackupModel) -> String {
        "backup of \(row.createdAt.formatted(.iso8601)), \(row.dashboards + row.charts + row.datasets + row.databases) assets"
    }

    /// Stores an uploaded Superset export ZIP as a backup of `environment`. The archive passes
    /// the bundle reader's hostile-archive checks and must hold at least one dashboard, chart or
    /// dataset; otherwise nothing is stored and the error says why (422).
    static func upload(_ data: Data, environment: EnvironmentRef, user: String, storage: BackupStorage, maxBytes: Int, now: Date, newID: UUID,
                       on db: any Database) async throws -> BackupModel {
        let limits = { var l = BundleLimits.default; l.maxArchiveBytes = maxBytes; return l }()
        // Parsing a large archive is seconds of CPU: off the cooperative threads.
        let bundle: AssetBundle
        do { bundle = try await storage.offload { try BundleReader(limits: limits).read(data) } } catch let e as BundleError {
            throw AppError(.unprocessableEntity, code: "invalid_bundle",
                           key: "upload_unreadable", ["why": e.localizedDescription])
        }
        guard bundle.dashboards.count + bundle.charts.count + bundle.datasets.count > 0 else {
            throw AppError(.unprocessableEntity, code: "invalid_bundle",
                           key: "upload_empty")
        }
        let notUUIDs = AssetKind.allCases.flatMap { bundle.all($0) }.filter { UUID(uuidString: $0.uuid) == nil }
        if let bad = notUUIDs.first {
            throw AppError(.unprocessableEntity, code: "invalid_bundle",
                           key: "upload_not_uuid", ["kind": bad.kind.rawValue, "name": bad.name, "uuid": String(bad.uuid.prefix(60)), "count": String(notUUIDs.count)])
        }
        do { try storage.prepare() } catch let f as BackupStorage.Failure {
            throw AppError(.serviceUnavailable, code: "storage_unavailable", detail: "\(f.message) \(f.next)")
        }
        let lock = try await storage.lock(exclusive: false, wait: true)
        defer { lock?.release() }
        var entries: [BackupManifest.Entry] = []
        var newBytes: Int64 = 0
        do {
            let assets = AssetKind.allCases.flatMap { bundle.all($0) }.map(\.withoutSecrets)
            let results = try await storage.offload { try storage.putAll(try assets.map { try $0.fileData() }) }
            for (asset, r) in zip(assets, results) {
                if r.isNew { newBytes += Int64(r.size) }
                entries.append(.init(kind: asset.kind, uuid: asset.uuid, name: asset.name, hash: r.hash, size: r.size, changedOn: nil, refs: asset.references))
            }
        } catch let f as BackupStorage.Failure {
            throw AppError(.serviceUnavailable, code: "storage_unavailable", detail: "\(f.message) \(f.next)")
        }
        var manifest = BackupManifest(backup: newID, environment: environment.id, environmentName: environment.name, createdAt: now,
                                      supersetVersion: "unknown (uploaded)", full: false, origin: .upload, basedOn: nil, assets: entries, newBytes: newBytes)
        do { return try await record(&manifest, storage: storage, taskID: nil, createdBy: user, on: db) } catch let f as TaskFailure {
            throw AppError(.serviceUnavailable, code: "storage_unavailable", detail: "\(f.message) \(f.nextAction)")
        }
    }

    /// A ZIP Superset's import accepts: one dashboard's closure (type Dashboard, for the
    /// dashboard import), or, with no selection, every asset (type assets, for the assets import).
    static func archive(_ row: BackupModel, dashboards: [String], storage: BackupStorage) throws -> Data {
        let manifest = try readableManifest(of: row, storage: storage)
        let (entries, missing) = manifest.closure(dashboards: dashboards, charts: [], datasets: [])
        if !missing.isEmpty {
            throw AppError.validation([FieldError(field: "dashboard", code: "unknown", key: "backup_lacks_dashboard", ["uuids": missing.joined(separator: ", ")])])
        }
        var bundle: AssetBundle
        do { bundle = try storage.bundle(entries) } catch let f as BackupStorage.Failure {
            throw AppError(.conflict, code: "backup_corrupt", detail: "\(f.message) \(f.next)")
        }
        bundle.metadata = AssetBundle.defaultMetadata(type: dashboards.isEmpty ? .assets : .dashboard)
        bundle.metadata["timestamp"] = .string(ISO8601DateFormatter().string(from: row.createdAt))
        return try BundleWriter(topFolder: dashboards.isEmpty ? "assets_export" : "dashboard_export").write(bundle)
    }

    /// What changed from backup `a` to backup `b` (both of one environment): assets added,
    /// removed, and changed with the fields that differ.
    static func diff(_ a: BackupModel, _ b: BackupModel, storage: BackupStorage) throws -> BackupDiff {
        guard a.environmentID == b.environmentID else {
            throw AppError.validation([FieldError(field: "to", code: "other_environment", key: "same_environment_backups")])
        }
        let ma = try readableManifest(of: a, storage: storage), mb = try readableManifest(of: b, storage: storage)
        let ia = ma.index, ib = mb.index
        var out = BackupDiff(from: a.id!, to: b.id!)
        for e in mb.assets where ia[e.kind, e.uuid] == nil { out.added.append(.init(e)) }
        for e in ma.assets where ib[e.kind, e.uuid] == nil { out.removed.append(.init(e)) }
        for e in mb.assets {
            guard let old = ia[e.kind, e.uuid], old.hash != e.hash else { continue }
            var fields: [String] = []
            // Field by field for the first `diffFieldLimit` changes; the rest are named only.
            if out.changed.count >= diffFieldLimit {
                out.changed.append(.init(kind: e.kind, uuid: e.uuid, name: e.name, previousName: old.name == e.name ? nil : old.name, fields: []))
                continue
            }
            do {
                let before = try Asset(kind: old.kind, file: try storage.blob(old.hash), path: old.uuid)
                let after = try Asset(kind: e.kind, file: try storage.blob(e.hash), path: e.uuid)
                fields = Self.changedPaths(.map(before.fields), .map(after.fields), prefix: "", depth: 3)
            } catch {
                fields = ["(a blob can't be read: run verify)"]
            }
            out.changed.append(.init(kind: e.kind, uuid: e.uuid, name: e.name, previousName: old.name == e.name ? nil : old.name, fields: fields))
        }
        return out
    }

    /// Changed assets compared field by field in one diff (each reads and parses two blobs).
    static let diffFieldLimit = 500

    /// Dotted paths whose values differ, down to `depth` levels of maps (JSON strings such as
    /// `params` and `json_metadata` are compared as parsed JSON).
    static func changedPaths(_ a: BundleValue, _ b: BundleValue, prefix: String, depth: Int) -> [String] {
        func parsed(_ v: BundleValue) -> BundleValue {
            if let s = v.stringValue, s.hasPrefix("{"), let j = try? BundleValue.parseJSON(s) { return j }
            return v
        }
        let a = parsed(a), b = parsed(b)
        guard a != b else { return [] }
        guard depth > 0, let ma = a.mapValue, let mb = b.mapValue else { return [prefix.isEmpty ? "(value)" : prefix] }
        var out: [String] = []
        for key in Set(ma.keys).union(mb.keys).sorted() {
            let path = prefix.isEmpty ? key : prefix + "." + key
            out += changedPaths(ma[key] ?? .null, mb[key] ?? .null, prefix: path, depth: depth - 1)
        }
        return out
    }

    /// The retention of an environment (defaults when none was set).
    static func policy(environment: UUID, on db: any Database) async throws -> RetentionPolicy {
        guard let row = try await BackupPolicyModel.query(on: db).filter(\.$environmentID == environment).first() else { return RetentionPolicy() }
        return RetentionPolicy(keepLast: row.keepLast, daily: row.keepDaily, weekly: row.keepWeekly, monthly: row.keepMonthly)
    }

    static func savePolicy(_ policy: RetentionPolicy, environment: UUID, now: Date, newID: UUID, on db: any Database) async throws {
        let errors = policy.validate()
        if !errors.isEmpty { throw AppError.validation(errors) }
        let row = try await BackupPolicyModel.query(on: db).filter(\.$environmentID == environment).first() ?? {
            let r = BackupPolicyModel()
            r.id = newID
            r.environmentID = environment
            return r
        }()
        row.keepLast = policy.keepLast
        row.keepDaily = policy.daily
        row.keepWeekly = policy.weekly
        row.keepMonthly = policy.monthly
        row.updatedAt = now
        try await row.save(on: db)
    }

}

/// Keep the last N, plus the newest of each of the last D days, W weeks and M months
/// (grandfather-father-son). Pinned backups are always kept.
struct RetentionPolicy: Codable, Sendable, Equatable {
    var keepLast = 7
    var daily = 7
    var weekly = 4
    var monthly = 6

    init(keepLast: Int = 7, daily: Int = 7, weekly: Int = 4, monthly: Int = 6) {
        self.keepLast = keepLast
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    /// Fields left out keep their defaults (`{"keepLast": 3}` is a whole policy).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(keepLast: try c.decodeIfPresent(Int.self, forKey: .keepLast) ?? 7, daily: try c.decodeIfPresent(Int.self, forKey: .daily) ?? 7,
                  weekly: try c.decodeIfPresent(Int.self, forKey: .weekly) ?? 4, monthly: try c.decodeIfPresent(Int.self, forKey: .monthly) ?? 6)
    }

    func validate() -> [FieldError] {
        var out: [FieldError] = []
        for (field, value) in [("keepLast", keepLast), ("daily", daily), ("weekly", weekly), ("monthly", monthly)] where !(0...1000).contains(value) {
            out.append(FieldError(field: field, code: "invalid", key: "between", ["min": "0", "max": "1000"]))
        }
        if keepLast < 1 { out.append(FieldError(field: "keepLast", code: "invalid", key: "keep_last")) }
        return out
    }

    /// The ids to keep among `backups` (UTC calendar periods).
    func kept(_ backups: [(id: UUID, createdAt: Date, pinned: Bool)]) -> Set<UUID> {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let newest = backups.sorted { $0.createdAt > $1.createdAt }
        var keep = Set(newest.filter(\.pinned).map(\.id))
        keep.formUnion(newest.prefix(keepLast).map(\.id))
        let periods: [(Int, (Date) -> String)] = [
            (daily, { let c = calendar.dateComponents([.year, .month, .day], from: $0); return "\(c.year!)-\(c.month!)-\(c.day!)" }),
            (weekly, { let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0); return "\(c.yearForWeekOfYear!)-W\(c.weekOfYear!)" }),
            (monthly, { let c = calendar.dateComponents([.year, .month], from: $0); return "\(c.year!)-\(c.month!)" }),
        ]
        for (count, bucket) in periods where count > 0 {
            var seen = Set<String>()
            for b in newest {
                let key = bucket(b.createdAt)
                if seen.contains(key) { continue }
                seen.insert(key)
                keep.insert(b.id)
                if seen.count == count { break }
            }
        }
        return keep
    }
}

/// Two backups compared.
struct BackupDiff: Codable, Sendable, Equatable {
    struct Item: Codable, Sendable, Equatable {
        var kind: AssetKind
        var uuid: String
        var name: String
        init(_ e: BackupManifest.Entry) {
            kind = e.kind
            uuid = e.uuid
            name = e.name
        }
    }
    struct Change: Codable, Sendable, Equatable {
        var kind: AssetKind
        var uuid: String
        var name: String
        var previousName: String?
        var fields: [String]
    }
    var from: UUID
    var to: UUID
    var added: [Item] = []
    var removed: [Item] = []
    var changed: [Change] = []
}
