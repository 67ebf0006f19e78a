import Fluent
import SQLKit

extension Database {
    /// A transaction that reads before it writes, safe on SQLite.
    ///
    /// SQLite starts transactions deferred: one that reads first holds a shared lock and, when it
    /// then writes while another connection is writing, fails at once with "database is locked"
    /// (a deadlock its busy handler can't wait out). Taking the write lock first, with a write that
    /// touches no row, makes such transactions queue instead. On PostgreSQL it is a plain transaction.
    ///
    /// On SQLite the connection also runs with `synchronous = NORMAL`, the documented setting for
    /// WAL mode: a commit no longer waits for an fsync (the WAL is synced at checkpoints); a crash
    /// of Ferry loses nothing, a power cut may lose the last commits but never corrupts the file.
    func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        guard let sql = self as? any SQLDatabase, sql.dialect.name == "sqlite" else {
            return try await transaction(body)
        }
        return try await withConnection { connection in
            if let c = connection as? any SQLDatabase { try await c.raw("PRAGMA synchronous = NORMAL").run() }
            return try await connection.transaction { tx in
                if let s = tx as? any SQLDatabase { try await s.raw("UPDATE environments SET name = name WHERE 0 = 1").run() }
                return try await body(tx)
            }
        }
    }
}
