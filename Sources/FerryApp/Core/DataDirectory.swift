import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The data directory (`FERRY_DATA_DIR`) and the files in it, readable by Ferry's user only:
/// the directory is created 0700, the SQLite store and the key file are 0600.
enum DataDirectory {
    /// Creates the data directory (mode 0700) when it is missing, and makes the SQLite store file
    /// owner-only (0600), creating it empty when missing so SQLite never creates it with the
    /// process's umask. An existing directory keeps its mode (it may be one the operator chose);
    /// an existing store and its WAL files are tightened to 0600.
    static func prepare(_ configuration: FerryConfiguration, fileManager: FileManager = .default) throws {
        try createDirectory(configuration.dataDirectory, fileManager: fileManager)
        guard !configuration.usesPostgres else { return }
        try ownerOnlyFile(configuration.sqlitePath)
        for suffix in ["-wal", "-shm", "-journal"] where fileManager.fileExists(atPath: configuration.sqlitePath + suffix) {
            try fileManager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: configuration.sqlitePath + suffix)
        }
    }

    /// Creates the directory `dir` with mode 0700 when it is missing; an existing one is left as it is.
    static func createDirectory(_ dir: String, fileManager: FileManager = .default) throws {
        guard !fileManager.fileExists(atPath: dir) else { return }
        try fileManager.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Exactly 0700, whatever the umask did to the mkdir.
        try fileManager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir)
    }

    /// Makes `path` a file only its owner can read and write (0600): created empty when missing,
    /// its contents untouched when present.
    static func ownerOnlyFile(_ path: String) throws {
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, mode_t(0o600))
        guard fd >= 0 else { throw DataDirectoryError(path: path, operation: "open", code: errno) }
        defer { _ = close(fd) }
        guard fchmod(fd, mode_t(0o600)) == 0 else { throw DataDirectoryError(path: path, operation: "chmod", code: errno) }
    }

    /// Creates `path` holding `contents` with mode 0600, only if nothing is there yet
    /// (`O_CREAT | O_EXCL`: no race with another process, no following a planted link).
    /// Returns false, writing nothing, when the file already exists.
    static func createExclusively(_ path: String, contents: Data) throws -> Bool {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode_t(0o600))
        if fd < 0 {
            let code = errno
            if code == EEXIST { return false }
            throw DataDirectoryError(path: path, operation: "create", code: code)
        }
        var failure: Int32?
        if fchmod(fd, mode_t(0o600)) != 0 { failure = errno }
        if failure == nil {
            let bytes = [UInt8](contents)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBufferPointer { buffer in
                    write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = errno }
        _ = close(fd)
        if let code = failure {
            // Leave no half-written file for the next start to read.
            _ = unlink(path)
            throw DataDirectoryError(path: path, operation: "write", code: code)
        }
        return true
    }
}

/// A file operation on the data directory failed.
struct DataDirectoryError: Error, CustomStringConvertible {
    var path: String
    var operation: String
    var code: Int32

    var description: String {
        "could not \(operation) \(path): \(String(cString: strerror(code))). Check that Ferry's user owns FERRY_DATA_DIR."
    }
}
