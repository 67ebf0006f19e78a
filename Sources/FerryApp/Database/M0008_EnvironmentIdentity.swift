import Crypto
import Fluent
import Foundation
import SQLKit
import SupersetKit

/// Every table that refers to an environment stores its id (lower-case UUID text), never its
/// name, so a rename keeps tasks, promotions, history, mappings, grants and schedules.
///
/// - renames `tasks.environments` → `environment_ids`, `role_grants.environments` →
///   `environment_ids`, and `source_env`/`target_env` → `source_env_id`/`target_env_id` in
///   `database_mappings`, `promotion_plans`, `promotions` and `dashboard_history`;
/// - converts their values, and the environment params (`environment`, `source`, `target`) of
///   stored task and schedule params, from names to ids;
/// - adds `audit_events.environment_id` beside the name the event recorded at the time.
///
/// A name that no longer matches an environment (deleted before this migration) becomes a
/// stable id of no environment (`orphanID`), so a grant limited to it still grants nothing.
/// The revert maps ids back to current names. Shipped: never edit.
struct M0008_EnvironmentIdentity: AsyncMigration {
    var name: String { "M0008_EnvironmentIdentity" }

    static let renames: [(table: String, from: String, to: String)] = [
        ("tasks", "environments", "environment_ids"),
        ("role_grants", "environments", "environment_ids"),
        ("database_mappings", "source_env", "source_env_id"), ("database_mappings", "target_env", "target_env_id"),
        ("promotion_plans", "source_env", "source_env_id"), ("promotion_plans", "target_env", "target_env_id"),
        ("promotions", "source_env", "source_env_id"), ("promotions", "target_env", "target_env_id"),
        ("dashboard_history", "source_env", "source_env_id"), ("dashboard_history", "target_env", "target_env_id"),
    ]
    static let paramKeys = ["environment", "source", "target"]

    /// A stable id for an environment name that matches no environment.
    static func orphanID(_ name: String) -> String {
        var bytes = Array(SHA256.hash(data: Data("ferry.deleted-environment:\(name)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }

    /// One transaction (PostgreSQL and SQLite both alter tables transactionally), so a failure
    /// halfway leaves the store as it was and the migration can simply run again.
    func prepare(on database: Database) async throws {
        try await database.transaction { tx in
            let sql = tx as! any SQLDatabase
            let ids = try await Self.environments(sql).reduce(into: [String: String]()) { $0[$1.name] = $1.id }
            let toID: (String) -> String = { ids[$0] ?? Self.orphanID($0) }
            try await Self.convert(sql, forward: true, map: toID, paramMap: { ids[$0] })
            try await sql.alter(table: "audit_events").column("environment_id", type: .text).run()
            for (name, id) in ids {
                try await sql.update("audit_events").set("environment_id", to: id).where("environment", .equal, name).run()
            }
        }
    }

    func revert(on database: Database) async throws {
        try await database.transaction { tx in
            let sql = tx as! any SQLDatabase
            let names = try await Self.environments(sql).reduce(into: [String: String]()) { $0[$1.id] = $1.name }
            try await sql.raw("ALTER TABLE audit_events DROP COLUMN environment_id").run()
            try await Self.convert(sql, forward: false, map: { names[$0] ?? $0 }, paramMap: { names[$0] })
        }
    }

    private struct Env: Decodable { var id: UUID; var name: String }

    private static func environments(_ sql: any SQLDatabase) async throws -> [(id: String, name: String)] {
        try await sql.select().column("id").column("name").from("environments").all(decoding: Env.self).map { ($0.id.uuidString.lowercased(), $0.name) }
    }

    /// Forward: renames the columns to their `_id` names, then maps their values with `map`
    /// (plain ones become UUID columns). Back: maps the values, then renames the columns back.
    /// Task and schedule params are mapped with `paramMap` (nil: leave the value).
    private static func convert(_ sql: any SQLDatabase, forward: Bool, map: @escaping (String) -> String,
                                paramMap: @escaping (String) -> String?) async throws {
        if forward {
            for r in renames { try await sql.raw("ALTER TABLE \(ident: r.table) RENAME COLUMN \(ident: r.from) TO \(ident: r.to)").run() }
        }
        struct Value: Decodable { var v: String }
        struct IDValue: Decodable { var v: UUID }
        // Plain columns become UUID columns (PostgreSQL: type uuid; SQLite: Fluent's 16-byte blobs).
        let postgres = sql.dialect.name.contains("postgres")
        for r in renames where r.table != "tasks" && r.table != "role_grants" {
            let col = r.to  // values are converted while the columns have their new names
            let select = sql.select().distinct().column(SQLAlias(SQLIdentifier(col), as: SQLIdentifier("v"))).from(r.table)
            if forward {
                for value in try await select.all(decoding: Value.self).map(\.v) {
                    let id = map(value)
                    let bind: any SQLExpression = postgres ? SQLBind(id) : SQLBind(UUID(uuidString: id)!)
                    try await sql.update(r.table).set(SQLIdentifier(col), to: bind).where(SQLIdentifier(col), .equal, SQLBind(value)).run()
                }
                if postgres {
                    try await sql.raw("ALTER TABLE \(ident: r.table) ALTER COLUMN \(ident: col) TYPE uuid USING \(ident: col)::uuid").run()
                }
            } else if postgres {
                try await sql.raw("ALTER TABLE \(ident: r.table) ALTER COLUMN \(ident: col) TYPE text USING \(ident: col)::text").run()
                for value in try await select.all(decoding: Value.self).map(\.v) where map(value) != value {
                    try await sql.update(r.table).set(SQLIdentifier(col), to: SQLBind(map(value))).where(SQLIdentifier(col), .equal, SQLBind(value)).run()
                }
            } else {
                for id in try await select.all(decoding: IDValue.self).map(\.v) {
                    try await sql.update(r.table).set(SQLIdentifier(col), to: SQLBind(map(id.uuidString.lowercased())))
                        .where(SQLIdentifier(col), .equal, SQLBind(id)).run()
                }
            }
        }
        // Comma lists of tasks.
        let taskCol = "environment_ids"
        let lists = try await sql.select().distinct().column(SQLAlias(SQLIdentifier(taskCol), as: SQLIdentifier("v"))).from("tasks").all(decoding: Value.self)
        for list in lists.map(\.v) where !list.isEmpty {
            let mapped = list.split(separator: ",").map { map(String($0)) }.joined(separator: ",")
            if mapped != list {
                try await sql.update("tasks").set(SQLIdentifier(taskCol), to: SQLBind(mapped)).where(SQLIdentifier(taskCol), .equal, SQLBind(list)).run()
            }
        }
        // JSON lists of grants.
        let grantCol = "environment_ids"
        struct Grant: Decodable { var id: UUID; var v: String }
        let grants = try await sql.select().column("id").column(SQLAlias(SQLIdentifier(grantCol), as: SQLIdentifier("v"))).from("role_grants").all(decoding: Grant.self)
        for g in grants where g.v != "[]" {
            // A list that doesn't decode is left as it is (it grants nothing), never emptied
            // (an empty list would grant everywhere).
            guard let list = try? JSONDecoder().decode([String].self, from: Data(g.v.utf8)) else { continue }
            let mapped = String(decoding: try JSONEncoder().encode(list.map(map)), as: UTF8.self)
            try await sql.update("role_grants").set(SQLIdentifier(grantCol), to: SQLBind(mapped)).where("id", .equal, SQLBind(g.id)).run()
        }
        // Environment params of tasks and schedules.
        for table in ["tasks", "schedules"] {
            struct Row: Decodable { var id: UUID; var params: String }
            let rows = try await sql.select().column("id").column("params").from(table).all(decoding: Row.self)
            for row in rows {
                // Through BundleValue, as Ferry wrote them: numbers and booleans keep their form.
                guard var params = try? BundleValue.parseJSON(Data(row.params.utf8)), params.mapValue != nil else { continue }
                var changed = false
                for key in paramKeys {
                    if let value = params[key]?.stringValue, let mapped = paramMap(value), mapped != value {
                        params[key] = .string(mapped)
                        changed = true
                    }
                }
                guard changed else { continue }
                try await sql.update(table).set("params", to: params.jsonText()).where("id", .equal, SQLBind(row.id)).run()
            }
        }
        if !forward {
            for r in renames { try await sql.raw("ALTER TABLE \(ident: r.table) RENAME COLUMN \(ident: r.to) TO \(ident: r.from)").run() }
        }
    }
}
