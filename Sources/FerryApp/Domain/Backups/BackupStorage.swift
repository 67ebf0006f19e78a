import Foundation
import SupersetKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Content-addressed backup storage in one folder (`FERRY_STORAGE`):
///
///     blobs/<first two hex>/<sha256>          one asset file, stored once, named by its SHA-256
///     manifests/<environment id>/<backup>.json one backup: which blob holds each asset
///     tmp/                                    files being written
///
/// Invariants: a blob's name is the SHA-256 of its bytes; every file appears under its final
/// name only once complete (written to `tmp/`, fsynced, renamed). Blobs are shared by every
/// backup and environment, so nothing here deletes one that a manifest names (see
/// `BackupRetention.collect`).
/// Side effects: the filesystem only; files are owner-only (0600, folders 0700).
struct BackupStorage: Sendable {
    let root: URL

    init(root: String) { self.root = URL(fileURLWithPath: root, isDirectory: true) }

    /// What went wrong with the storage folder, with what to do.
    struct Failure: Error, CustomStringConvertible, Sendable {
        var message: String
        var next: String
        var description: String { message }
        var taskFailure: TaskFailure { TaskFailure(message, next: next) }
    }

    enum BlobState: String, Sendable, Codable { case ok, missing, corrupt }

    /// Creates the folders when missing and proves the storage writable (writes, syncs and
    /// removes a probe file). Throws `Failure` naming the folder otherwise.
    func prepare() throws {
        for sub in ["blobs", "manifests", "tmp"] {
            let dir = root.appendingPathComponent(sub).path
            do { try DataDirectory.createDirectory(dir) } catch {
                throw Failure(message: "The backup storage \(root.path) can't be created (\(error)).",
                              next: "Set FERRY_STORAGE to a folder Ferry's user may write, or fix its permissions.")
            }
        }
        let probe = root.appendingPathComponent("tmp/probe-\(UUID().uuidString)")
        try write(Data("ferry".utf8), to: probe, final: nil)
        unlink(probe.path)
    }

    static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    func blobURL(_ hash: String) -> URL {
        root.appendingPathComponent("blobs").appendingPathComponent(String(hash.prefix(2))).appendingPathComponent(hash)
    }

    func manifestURL(environment: UUID, backup: UUID) -> URL {
        root.appendingPathComponent("manifests").appendingPathComponent(environment.key).appendingPathComponent(backup.key + ".json")
    }

    /// Stores `data` once. An existing blob is not rewritten (its modification time is renewed
    /// so a collection running meanwhile sees it as fresh, see `BackupRetention.collect`) unless
    /// its size is wrong, or, with `repair`, its content no longer matches its name: a full
    /// backup heals the blobs it writes.
    func put(_ data: Data, repair: Bool = false) throws -> (hash: String, size: Int, isNew: Bool) {
        let hash = Checksum.sha256Hex(data)
        let url = blobURL(hash)
        var st = stat()
        if stat(url.path, &st) == 0, Int(st.st_size) == data.count, !repair || check(hash) == .ok {
            _ = utimes(url.path, nil)
            return (hash, data.count, false)
        }
        try write(data, to: root.appendingPathComponent("tmp/\(UUID().uuidString)"), final: url)
        return (hash, data.count, true)
    }

    /// Whether the blob exists; if so its modification time is renewed (a backup reusing it
    /// keeps it from collection). Doesn't re-hash: that is verify's work.
    func renew(_ hash: String) -> Bool {
        guard Self.isHash(hash) else { return false }
        return utimes(blobURL(hash).path, nil) == 0
    }

    /// The blob's bytes, checked against its name. Throws `Failure` when missing or corrupt.
    func blob(_ hash: String) throws -> Data {
        guard Self.isHash(hash), let data = FileManager.default.contents(atPath: blobURL(hash).path) else {
            throw Failure(message: "Blob \(hash.prefix(12)) is missing from the backup storage.", next: "Run backup.verify to see which backups it breaks.")
        }
        guard Checksum.sha256Hex(data) == hash else {
            throw Failure(message: "Blob \(hash.prefix(12)) is corrupt (its content no longer matches its checksum).",
                          next: "Run backup.verify; restore from another backup.")
        }
        return data
    }

    /// Re-hashes one blob.
    func check(_ hash: String) -> BlobState {
        guard Self.isHash(hash), let data = FileManager.default.contents(atPath: blobURL(hash).path) else { return .missing }
        return Checksum.sha256Hex(data) == hash ? .ok : .corrupt
    }

    func writeManifest(_ data: Data, environment: UUID, backup: UUID) throws {
        try write(data, to: root.appendingPathComponent("tmp/\(UUID().uuidString)"), final: manifestURL(environment: environment, backup: backup))
    }

    func manifestData(environment: UUID, backup: UUID) throws -> Data {
        guard let data = FileManager.default.contents(atPath: manifestURL(environment: environment, backup: backup).path) else {
            throw Failure(message: "The manifest of backup \(backup.key) is missing from the backup storage.",
                          next: "The backup can't be read or restored; delete it, or restore the storage folder from your own copy.")
        }
        return data
    }

    func removeManifest(environment: UUID, backup: UUID) {
        unlink(manifestURL(environment: environment, backup: backup).path)
    }

    func removeBlob(_ hash: String) {
        guard Self.isHash(hash) else { return }
        unlink(blobURL(hash).path)
    }

    /// Every manifest file: its environment, backup id and modification time.
    func manifests() -> [(environment: UUID, backup: UUID, modified: Date)] {
        let base = root.appendingPathComponent("manifests")
        var out: [(UUID, UUID, Date)] = []
        for env in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] {
            guard let envID = UUID(uuidString: env) else { continue }
            for file in (try? FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent(env).path)) ?? [] {
                guard file.hasSuffix(".json"), let id = UUID(uuidString: String(file.dropLast(5))) else { continue }
                out.append((envID, id, modified(base.appendingPathComponent(env).appendingPathComponent(file).path)))
            }
        }
        return out
    }

    /// Every blob: its hash, size and modification time.
    func blobs() -> [(hash: String, size: Int, modified: Date)] {
        let base = root.appendingPathComponent("blobs")
        var out: [(String, Int, Date)] = []
        for prefix in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] {
            let dir = base.appendingPathComponent(prefix).path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where Self.isHash(name) {
                var st = stat()
                guard stat(dir + "/" + name, &st) == 0 else { continue }
                out.append((name, Int(st.st_size), Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec))))
            }
        }
        return out
    }

    /// Removes files left in `tmp/` by writes cut short, older than `cutoff`. Returns how many.
    @discardableResult
    func removeTemporaries(before cutoff: Date) -> Int {
        let dir = root.appendingPathComponent("tmp").path
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where modified(dir + "/" + name) < cutoff {
            if unlink(dir + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    private func modified(_ path: String) -> Date {
        var st = stat()
        guard stat(path, &st) == 0 else { return .distantFuture }
        return Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec))
    }

    /// Writes `data` to `temporary` (created exclusively, 0600), fsyncs it, then renames it to
    /// `final` (its folder created when missing) and fsyncs that folder. With `final` nil the
    /// file stays at `temporary` (the writability probe).
    private func write(_ data: Data, to temporary: URL, final: URL?) throws {
        let fd = open(temporary.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode_t(0o600))
        guard fd >= 0 else { throw failure(errno, "create", temporary.path) }
        var ok = false
        defer { if !ok { _ = close(fd); unlink(temporary.path) } }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure(errno, "write", temporary.path)
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw failure(errno, "sync", temporary.path) }
        ok = true
        _ = close(fd)
        guard let final else { return }
        let folder = final.deletingLastPathComponent().path
        if access(folder, F_OK) != 0 {
            do { try DataDirectory.createDirectory(folder) } catch {
                unlink(temporary.path)
                throw Failure(message: "The backup storage can't create \(folder) (\(error)).", next: "Check FERRY_STORAGE's permissions.")
            }
        }
        guard rename(temporary.path, final.path) == 0 else {
            let code = errno
            unlink(temporary.path)
            throw failure(code, "rename", final.path)
        }
        let dirFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { _ = fsync(dirFD); _ = close(dirFD) }
    }

    private func failure(_ code: Int32, _ operation: String, _ path: String) -> Failure {
        switch code {
        case ENOSPC, EDQUOT:
            return Failure(message: "The backup storage is full: \(operation) of \(path) failed (\(String(cString: strerror(code)))). Nothing partial is listed.",
                           next: "Free space under \(root.path) (delete old backups or lower the retention), or point FERRY_STORAGE at a larger disk, then back up again.")
        case EACCES, EPERM, EROFS:
            return Failure(message: "The backup storage \(root.path) is not writable: \(operation) of \(path) failed (\(String(cString: strerror(code)))).",
                           next: "Give Ferry's user write access to FERRY_STORAGE, or set it to another folder.")
        default:
            return Failure(message: "The backup storage failed to \(operation) \(path): \(String(cString: strerror(code))).",
                           next: "Check the disk under \(root.path), then back up again.")
        }
    }
}
