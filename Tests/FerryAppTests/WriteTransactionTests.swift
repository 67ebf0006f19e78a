import Fluent
import Foundation
import SQLKit
import Testing
@testable import FerryApp

/// A transaction that reads before it writes, while another connection writes, on SQLite.
///
/// The second connection is the task logs' pool (its own connections to the same file), so the
/// two really are separate SQLite connections.
@Suite struct WriteTransactionTests {
    private struct Row: Decodable { var n: Int }

    private static func table(_ sql: any SQLDatabase) async throws {
        try await sql.raw("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)").run()
        try await sql.raw("INSERT INTO counters (id, n) VALUES (1, 0)").run()
    }

    private static func value(_ sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT n FROM counters WHERE id = 1").first(decoding: Row.self)?.n ?? -1
    }

    /// Why the helper exists: SQLite refuses a deferred transaction's write at once when another
    /// connection committed after it read (its busy handler can't wait that out).
    @Test func aDeferredTransactionThatReadsBeforeAnotherConnectionWritesIsRefused() async throws {
        try await withFerry(.sqlite) { t in
            let own = t.db as! any SQLDatabase, other = t.app.db(.taskLogs) as! any SQLDatabase
            try await Self.table(own)
            await #expect(throws: (any Error).self) {
                try await t.db.transaction { tx in
                    let sql = tx as! any SQLDatabase
                    let n = try await Self.value(sql)
                    try await other.raw("UPDATE counters SET n = n + 10 WHERE id = 1").run()
                    try await sql.raw("UPDATE counters SET n = \(bind: n + 1) WHERE id = 1").run()
                }
            }
            #expect(try await Self.value(own) == 10, "the other connection's write stands, the refused one left nothing")
        }
    }

    /// With the write lock taken first, the other connection's write waits for the commit instead,
    /// and neither write is lost.
    @Test func aWriteTransactionMakesTheOtherWriterWait() async throws {
        try await withFerry(.sqlite) { t in
            let own = t.db as! any SQLDatabase, other = t.app.db(.taskLogs) as! any SQLDatabase
            try await Self.table(own)
            let concurrent = try await t.db.writeTransaction { tx -> Task<Void, any Error> in
                let sql = tx as! any SQLDatabase
                let n = try await Self.value(sql)
                #expect(n == 0)
                let concurrent = Task { try await other.raw("UPDATE counters SET n = n + 10 WHERE id = 1").run() }
                // The other write queues behind this transaction's lock, whenever it arrives.
                try await Task.sleep(nanoseconds: 100_000_000)
                try await sql.raw("UPDATE counters SET n = \(bind: n + 1) WHERE id = 1").run()
                return concurrent
            }
            try await concurrent.value
            #expect(try await Self.value(own) == 11, "both writes count")
        }
    }
}
