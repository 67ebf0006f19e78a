import Fluent
import SQLKit

extension Database {
    /// A transaction that reads before it writes, safe on SQLite.
    ///
    /// SQLite starts transactions deferred: one that reads first holds a shared lock and, when it
    /// then writes while another connection is writing, fails at once with "database is locked"
    /// (a deadlock its busy handler can't wait out). Taking the write lock first, with a write that
    /// touches no row, makes such transactions queue instead. On PostgreSQL it is a plain transaction.
    func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        try await transaction { tx in
            if let sql = tx as? any SQLDatabase, sql.dialect.name == "sqlite" {
                try await sql.raw("UPDATE environments SET name = name WHERE 0 = 1").run()
            }
            return try await body(tx)
        }
    }
}
