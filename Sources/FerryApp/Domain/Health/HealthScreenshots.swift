import Foundation

/// A screenshot a check stored: the tab it shows and its file.
public struct HealthScreenshotRef: Codable, Sendable, Equatable {
    public var tab: String?
    public var file: String
    public var bytes: Int
}

/// Dashboard checks' screenshots: PNG files in `<storage>/health/`, named
/// `<check id>-<n>.png`, mode 0600.
///
/// Invariants: names are only ever made here and checked against that pattern before any read,
/// so no stored or requested name can reach outside the folder. `prune` keeps every file named
/// in `keep` (each dashboard's last passing screenshots) whatever the quota and age.
struct HealthScreenshots: Sendable {
    let root: URL

    init(storageRoot: String) {
        root = URL(fileURLWithPath: storageRoot).appendingPathComponent("health")
    }

    static func isValidName(_ name: String) -> Bool {
        name.range(of: #"^[0-9A-Fa-f-]{36}-[0-9]{1,2}\.png$"#, options: .regularExpression) != nil
    }

    func save(_ png: Data, check: UUID, index: Int, tab: String?) throws -> HealthScreenshotRef {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let name = "\(check.uuidString.lowercased())-\(index).png"
        let url = root.appendingPathComponent(name)
        let temporary = root.appendingPathComponent(".\(name).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: png, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        return HealthScreenshotRef(tab: tab, file: name, bytes: png.count)
    }

    /// The file's bytes, or nil when the name is not one of ours or the file went to retention.
    func load(_ name: String) -> Data? {
        guard Self.isValidName(name) else { return nil }
        return try? Data(contentsOf: root.appendingPathComponent(name))
    }

    /// Removes screenshots older than `age` seconds (by the file system's own clock, as backup
    /// collection does), then the oldest until the folder is under `quotaBytes`, never one named
    /// in `keep`. Returns how many files went.
    @discardableResult
    func prune(olderThan age: TimeInterval, quotaBytes: Int64, keep: Set<String>) -> Int {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: root.path) else { return 0 }
        let marker = root.appendingPathComponent(".clock")
        fm.createFile(atPath: marker.path, contents: Data(), attributes: [.posixPermissions: 0o600])
        let now = (try? fm.attributesOfItem(atPath: marker.path)[.modificationDate] as? Date) ?? Date()
        let before = now.addingTimeInterval(-age)
        var files: [(name: String, size: Int64, modified: Date)] = []
        for name in names where Self.isValidName(name) {
            guard let attributes = try? fm.attributesOfItem(atPath: root.appendingPathComponent(name).path) else { continue }
            files.append((name, (attributes[.size] as? NSNumber)?.int64Value ?? 0, attributes[.modificationDate] as? Date ?? .distantPast))
        }
        files.sort { $0.modified < $1.modified }
        var total = files.reduce(Int64(0)) { $0 + $1.size }
        var removed = 0
        for f in files where !keep.contains(f.name) && (f.modified < before || total > quotaBytes) {
            if (try? fm.removeItem(at: root.appendingPathComponent(f.name))) != nil {
                total -= f.size
                removed += 1
            }
        }
        return removed
    }
}
