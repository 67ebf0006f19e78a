import Foundation
import NIOPosix
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
/// name only once complete (written to `tmp/`, synced to disk, renamed). Blobs are shared by
/// every backup and environment, so nothing here deletes one that a manifest names (see
/// `BackupRetention.collect`); writers hold the storage lock shared, collection exclusively.
/// Side effects: the filesystem only; files are owner-only (0600, folders 0700).
struct BackupStorage: Sendable {
    let root: URL
    /// Where blocking file work runs (writes, syncs, hashing many blobs), off Swift's few
    /// cooperative threads; nil runs it inline (tests).
    let pool: NIOThreadPool?

    init(root: String, pool: NIOThreadPool? = nil) {
        self.root = URL(fileURLWithPath: root, isDirectory: true)
        self.pool = pool
    }

    /// Runs blocking file work on the pool.
    func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard let pool else { return try body() }
        return try await pool.runIfActive(body)
    }

    /// The storage-wide lock (`flock` on `lock`, so it holds across processes sharing the
    /// folder): backups and uploads hold it shared while they write, collection exclusively.
    final class Lock: @unchecked Sendable {
        private let fd: Int32
        init(fd: Int32) { self.fd = fd }
        func release() {
            _ = flock(fd, LOCK_UN)
            _ = close(fd)
        }
    }

    /// Takes the lock; with `wait` false returns nil at once when it is held the other way.
    func lock(exclusive: Bool, wait: Bool) async throws -> Lock? {
        let fd = open(root.appendingPathComponent("lock").path, O_CREAT | O_RDWR | O_CLOEXEC, mode_t(0o600))
        guard fd >= 0 else { throw failure(errno, "open", root.appendingPathComponent("lock").path) }
        while true {
            if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 { return Lock(fd: fd) }
            guard wait else { _ = close(fd); return nil }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

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

    /// Stores one file; see `putAll`.
    func put(_ data: Data, repair: Bool = false) throws -> (hash: String, size: Int, isNew: Bool) {
        try putAll([data], repair: repair)[0]
    }

    /// Stores each file once. An existing blob is not rewritten (its modification time is
    /// renewed) unless its size is wrong, or, with `repair`, its content no longer matches its
    /// name: a full backup heals the blobs it writes. New files are written to `tmp/`, synced to
    /// disk together (one `syncfs`), renamed into place, and synced again, so a crash leaves
    /// either no blob or a whole one. Blocking: call it through `offload`.
    func putAll(_ files: [Data], repair: Bool = false) throws -> [(hash: String, size: Int, isNew: Bool)] {
        var out: [(String, Int, Bool)] = []
        var staged: [(temporary: URL, final: URL)] = []
        var stagedHashes = Set<String>()
        var done = false
        defer { if !done { for s in staged { unlink(s.temporary.path) } } }
        for data in files {
            let hash = Checksum.sha256Hex(data)
            if stagedHashes.contains(hash) { out.append((hash, data.count, false)); continue }
            let url = blobURL(hash)
            var st = stat()
            if stat(url.path, &st) == 0, Int(st.st_size) == data.count, !repair || check(hash) == .ok, utimes(url.path, nil) == 0 {
                out.append((hash, data.count, false))
                continue
            }
            let temporary = root.appendingPathComponent("tmp/\(UUID().uuidString)")
            try write(data, to: temporary, final: nil, sync: false)
            staged.append((temporary, url))
            stagedHashes.insert(hash)
            out.append((hash, data.count, true))
        }
        guard !staged.isEmpty else { return out }
        try syncAll(staged.map(\.temporary))
        for s in staged {
            let folder = s.final.deletingLastPathComponent().path
            if access(folder, F_OK) != 0 {
                do { try DataDirectory.createDirectory(folder) } catch {
                    throw Failure(message: "The backup storage can't create \(folder) (\(error)).", next: "Check FERRY_STORAGE's permissions.")
                }
            }
            guard rename(s.temporary.path, s.final.path) == 0 else { throw failure(errno, "rename", s.final.path) }
        }
        done = true
        try syncAll([])
        return out
    }

    /// Flushes the storage's filesystem to disk (`syncfs`; where it is missing, each of `files`
    /// and the folders are fsynced instead).
    private func syncAll(_ files: [URL]) throws {
        let fd = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno, "open", root.path) }
        defer { _ = close(fd) }
        if let syncfs = Self.syncfs {
            guard syncfs(fd) == 0 else { throw failure(errno, "sync", root.path) }
            return
        }
        for file in files {
            let f = open(file.path, O_RDONLY | O_CLOEXEC)
            guard f >= 0 else { throw failure(errno, "open", file.path) }
            let ok = fsync(f) == 0
            _ = close(f)
            guard ok else { throw failure(errno, "sync", file.path) }
        }
        _ = fsync(fd)
    }

    /// glibc's `syncfs`, which Swift's Glibc module doesn't export.
    private static let syncfs: (@convention(c) (Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()

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

    /// Removes the blob only if its modification time is still before `cutoff` (read again
    /// right before the unlink: a writer may have just renewed it). Returns whether it went.
    func removeBlob(_ hash: String, unchangedSince cutoff: Date) -> Bool {
        guard Self.isHash(hash) else { return false }
        var st = stat()
        guard stat(blobURL(hash).path, &st) == 0, Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec)) < cutoff else { return false }
        return unlink(blobURL(hash).path) == 0
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

    /// Writes `data` to `temporary` (created exclusively, 0600), fsyncs it (unless `sync` is
    /// false: the caller syncs many at once), then renames it to `final` (its folder created
    /// when missing) and fsyncs that folder. With `final` nil the file stays at `temporary`.
    private func write(_ data: Data, to temporary: URL, final: URL?, sync: Bool = true) throws {
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
        if sync { guard fsync(fd) == 0 else { throw failure(errno, "sync", temporary.path) } }
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
