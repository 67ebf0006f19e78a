import Foundation
import SupersetKit

/// What one backup holds: every asset by kind and uuid, with the hash of the blob holding its
/// file. Immutable once written.
///
/// On disk it is a small header (`manifests/<env>/<backup>.json`: environment, time, version,
/// counts, sizes, and the hashes of its chunks) and its asset list in up to 256 chunks (by the
/// first two characters of each uuid), each a JSON blob in the content-addressed store. A backup
/// that changed 1% of the assets of the one before shares every other chunk with it, so thirty
/// daily manifests cost about what their changes cost. `checksum` is the SHA-256 of the header's
/// JSON with the checksum itself empty; it covers the chunks through their hashes, and the
/// `backups` row keeps a copy of it.
struct BackupManifest: Codable, Sendable, Equatable {
    struct Entry: Codable, Sendable, Equatable {
        var kind: AssetKind
        var uuid: String
        var name: String
        var hash: String
        var size: Int
        /// Superset's `changed_on` when the asset was read (nil for uploads), for people.
        var changedOn: Date?
        /// The same as Superset sent it (microseconds, which a JSON date drops): what the next
        /// backup compares to decide whether to export the asset again.
        var changedOnText: String? = nil
        /// The uuids it references (a dashboard's charts and filter datasets, a chart's dataset,
        /// a dataset's database), so a closure needs no blob read.
        var refs: [String]
    }

    struct Counts: Codable, Sendable, Equatable {
        var dashboards = 0, charts = 0, datasets = 0, databases = 0
        var total: Int { dashboards + charts + datasets + databases }
    }

    var format = 2
    var backup: UUID
    var environment: UUID
    var environmentName: String
    var createdAt: Date
    var supersetVersion: String
    var full: Bool
    var origin: BackupOrigin
    /// The backup whose unchanged assets this one reused.
    var basedOn: UUID?
    /// Not in the header: read from and written to the chunks.
    var assets: [Entry]
    /// The chunk blobs' hashes, in bucket order.
    var chunks: [String] = []
    var counts: Counts
    var totalBytes: Int64
    /// New bytes of asset files and chunks this backup added to the storage.
    var newBytes: Int64
    var checksum: String = ""

    private enum CodingKeys: String, CodingKey {
        case format, backup, environment, environmentName, createdAt, supersetVersion, full, origin, basedOn, chunks, counts, totalBytes, newBytes, checksum
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(Int.self, forKey: .format)
        backup = try c.decode(UUID.self, forKey: .backup)
        environment = try c.decode(UUID.self, forKey: .environment)
        environmentName = try c.decode(String.self, forKey: .environmentName)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        supersetVersion = try c.decode(String.self, forKey: .supersetVersion)
        full = try c.decode(Bool.self, forKey: .full)
        origin = try c.decode(BackupOrigin.self, forKey: .origin)
        basedOn = try c.decodeIfPresent(UUID.self, forKey: .basedOn)
        chunks = try c.decode([String].self, forKey: .chunks)
        counts = try c.decode(Counts.self, forKey: .counts)
        totalBytes = try c.decode(Int64.self, forKey: .totalBytes)
        newBytes = try c.decode(Int64.self, forKey: .newBytes)
        checksum = try c.decode(String.self, forKey: .checksum)
        assets = []
    }

    init(backup: UUID, environment: UUID, environmentName: String, createdAt: Date, supersetVersion: String, full: Bool, origin: BackupOrigin,
         basedOn: UUID?, assets: [Entry], newBytes: Int64) {
        self.backup = backup
        self.environment = environment
        self.environmentName = environmentName
        self.createdAt = createdAt
        self.supersetVersion = supersetVersion
        self.full = full
        self.origin = origin
        self.basedOn = basedOn
        self.assets = assets.sorted { ($0.kind, $0.uuid) < ($1.kind, $1.uuid) }
        var c = Counts()
        for a in assets {
            switch a.kind {
            case .dashboard: c.dashboards += 1
            case .chart: c.charts += 1
            case .dataset: c.datasets += 1
            case .database: c.databases += 1
            }
        }
        self.counts = c
        self.totalBytes = assets.reduce(0) { $0 + Int64($1.size) }
        self.newBytes = newBytes
    }

    private static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    private static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }

    /// The chunk files: the entries grouped by the first two characters of their uuid, each
    /// group sorted, as deflated JSON (a third of its size), in bucket order. The same entries
    /// always give the same bytes.
    func chunkFiles() throws -> [Data] {
        let buckets = Dictionary(grouping: assets) { String($0.uuid.lowercased().prefix(2)) }
        return try buckets.keys.sorted().map { try Deflate.compress(try Self.encoder().encode(buckets[$0]!)) }
    }

    /// A chunk inflates to at most this (about 100,000 entries; a real one holds tens).
    static let chunkLimit = 32 << 20

    /// The header's bytes, its checksum filled in (`chunks` set first).
    mutating func sealed() throws -> Data {
        checksum = ""
        checksum = Checksum.sha256Hex(try Self.encoder().encode(self))
        return try Self.encoder().encode(self)
    }

    /// Reads a header and checks its own checksum (and `expected`, the row's copy, when given);
    /// `assets` is empty. Throws `BackupStorage.Failure` when it doesn't match.
    static func open(_ data: Data, expected: String?) throws -> BackupManifest {
        var manifest: BackupManifest
        do { manifest = try decoder().decode(BackupManifest.self, from: data) } catch {
            throw BackupStorage.Failure(message: "A backup manifest is unreadable (\(error)).", next: "Run backup.verify; this backup can't be restored.")
        }
        let stored = manifest.checksum
        manifest.checksum = ""
        let actual = Checksum.sha256Hex(try encoder().encode(manifest))
        guard actual == stored, expected == nil || expected == stored else {
            throw BackupStorage.Failure(message: "The manifest of backup \(manifest.backup.key) is corrupt (its checksum doesn't match).",
                                        next: "Run backup.verify; restore from another backup.")
        }
        manifest.checksum = stored
        return manifest
    }

    /// `open`, then the asset list from the chunks (each checked against its hash; `cache`
    /// keeps decoded chunks by hash, for reading many manifests that share them).
    static func load(_ data: Data, expected: String?, storage: BackupStorage, cache: ChunkCache? = nil) throws -> BackupManifest {
        var manifest = try open(data, expected: expected)
        for hash in manifest.chunks {
            if let known = cache?.chunks[hash] { manifest.assets += known; continue }
            let entries: [Entry]
            do { entries = try decoder().decode([Entry].self, from: try Deflate.decompress(try storage.blob(hash), limit: chunkLimit)) } catch let f as BackupStorage.Failure {
                throw BackupStorage.Failure(message: "Backup \(manifest.backup.key)'s asset list: \(f.message)", next: "Run backup.verify; restore from another backup.")
            } catch {
                throw BackupStorage.Failure(message: "Backup \(manifest.backup.key)'s asset list is unreadable (\(error)).", next: "Run backup.verify.")
            }
            cache?.chunks[hash] = entries
            manifest.assets += entries
        }
        manifest.assets.sort { ($0.kind, $0.uuid) < ($1.kind, $1.uuid) }
        return manifest
    }

    /// Decoded chunks by hash.
    final class ChunkCache: @unchecked Sendable {
        var chunks: [String: [Entry]] = [:]
    }

    /// The entries by kind and uuid, built once: look many up through it, never one by one
    /// through the list.
    struct Index: Sendable {
        fileprivate let map: [Key: Entry]
        init(_ manifest: BackupManifest) {
            map = Dictionary(manifest.assets.map { (Key(kind: $0.kind, uuid: $0.uuid), $0) }, uniquingKeysWith: { a, _ in a })
        }
        subscript(_ kind: AssetKind, _ uuid: String) -> Entry? { map[Key(kind: kind, uuid: uuid)] }
    }

    var index: Index { Index(self) }

    fileprivate struct Key: Hashable { var kind: AssetKind; var uuid: String }

    /// The entries a selection needs to import whole: the selected dashboards, charts and
    /// datasets with everything they reference (charts, datasets, databases). An empty selection
    /// means everything. Unknown uuids are returned in `missing`.
    func closure(dashboards: [String], charts: [String], datasets: [String]) -> (entries: [Entry], missing: [String]) {
        if dashboards.isEmpty && charts.isEmpty && datasets.isEmpty { return (assets, []) }
        let index = self.index.map
        var picked: [Key: Entry] = [:]
        var missing: [String] = []
        var queue: [Key] = []
        for (kind, uuids) in [(AssetKind.dashboard, dashboards), (.chart, charts), (.dataset, datasets)] {
            for uuid in uuids {
                let key = Key(kind: kind, uuid: uuid.lowercased())
                if index[key] == nil && index[Key(kind: kind, uuid: uuid)] == nil { missing.append(uuid) } else {
                    queue.append(index[key] == nil ? Key(kind: kind, uuid: uuid) : key)
                }
            }
        }
        while let key = queue.popLast() {
            guard picked[key] == nil, let entry = index[key] else { continue }
            picked[key] = entry
            for ref in entry.refs {
                for kind in AssetKind.allCases where kind < entry.kind {
                    let k = Key(kind: kind, uuid: ref)
                    if index[k] != nil && picked[k] == nil { queue.append(k) }
                }
            }
        }
        return (picked.values.sorted { ($0.kind, $0.uuid) < ($1.kind, $1.uuid) }, missing)
    }
}

/// How a backup came to be.
enum BackupOrigin: String, Codable, Sendable, CaseIterable {
    /// `backup.run` read it from the environment.
    case task
    /// An operator uploaded a Superset export ZIP.
    case upload
}

/// What the last verify found of a backup.
enum BackupVerifyStatus: String, Codable, Sendable, CaseIterable {
    case unverified, verified, corrupt
}

/// One missing or corrupt asset of a backup, as verify reports it.
struct BackupProblem: Codable, Sendable, Equatable {
    var kind: AssetKind?
    var uuid: String?
    var name: String
    /// `missing`, `corrupt`, or `manifest` (the manifest itself is missing or corrupt).
    var problem: String
}

extension BackupStorage {
    /// The bundle of `entries`, every blob checked against its hash on the way. Throws `Failure`
    /// naming the asset whose blob is missing or corrupt: a restore never reads a damaged backup.
    func bundle(_ entries: [BackupManifest.Entry]) throws -> AssetBundle {
        var bundle = AssetBundle()
        for e in entries {
            let data: Data
            do { data = try blob(e.hash) } catch let f as Failure {
                throw Failure(message: "\(e.kind.rawValue) '\(e.name)' (\(e.uuid)): \(f.message)", next: f.next)
            }
            bundle.insert(try Asset(kind: e.kind, file: data, path: "\(e.kind.folder)/\(e.uuid).yaml"))
        }
        return bundle
    }
}
