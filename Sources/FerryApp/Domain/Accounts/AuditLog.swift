import Fluent
import Foundation

/// One thing done through Ferry, for the audit log: who, from where, what, on which
/// environment, and how it ended.
public struct AuditEntry: Sendable, Equatable, Codable {
    public enum Outcome: String, Codable, Sendable { case success, failure, denied }
    public var at: Date
    public var actorID: UUID?
    public var actor: String
    public var address: String?
    public var action: String
    public var target: String?
    /// The environment's name at the time (a label).
    public var environment: String?
    /// The environment's id: what filters use.
    public var environmentID: UUID? = nil
    public var outcome: Outcome
    public var detail: String?
}

/// The append-only audit log. Ferry has no code path that updates or deletes an event.
enum AuditLog {
    /// Appends one event, its text fields cut to `AuditEntry`'s limits. Side effect: one insert.
    static func append(_ entry: AuditEntry, id: UUID, on db: any Database) async throws {
        let e = entry.capped
        let row = AuditEventModel()
        row.id = id
        row.at = e.at
        row.actorID = e.actorID
        row.actor = e.actor
        row.address = e.address
        row.action = e.action
        row.target = e.target
        row.environment = e.environment
        row.environmentID = e.environmentID?.key
        row.outcome = e.outcome.rawValue
        row.detail = e.detail
        try await row.create(on: db)
    }

    /// Filters for reading the log back.
    struct Filter: Sendable, Equatable {
        var actor: String?
        var action: String?
        /// The environment's id; events recorded under `environmentName` match too (for one
        /// deleted since, whose id no longer resolves).
        var environment: UUID?
        var environmentName: String?
        var outcome: String?
        var from: Date?
        var to: Date?
        var limit = 200
        var offset = 0
    }

    /// The newest events first that match `filter`, and how many match in all.
    static func list(_ f: Filter, on db: any Database) async throws -> (items: [AuditDTO], total: Int) {
        let q = AuditEventModel.query(on: db)
        if let a = f.actor, !a.isEmpty { q.filter(\.$actor == a) }
        if let a = f.action, !a.isEmpty { q.filter(\.$action, .contains(inverse: false, .anywhere), a) }
        if f.environment != nil || f.environmentName != nil {
            q.group(.or) { g in
                if let id = f.environment { g.filter(\.$environmentID == id.key) }
                if let name = f.environmentName, !name.isEmpty { g.filter(\.$environment == name) }
            }
        }
        if let o = f.outcome, !o.isEmpty { q.filter(\.$outcome == o) }
        if let from = f.from { q.filter(\.$at >= from) }
        if let to = f.to { q.filter(\.$at < to) }
        let total = try await q.copy().count()
        let rows = try await q.sort(\.$at, .descending).sort(\.$id).range(f.offset..<(f.offset + f.limit)).all()
        return (rows.map(AuditDTO.init), total)
    }
}

/// An audit event as the API and pages show it.
public struct AuditDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var at: Date
    public var actor: String
    public var address: String?
    public var action: String
    public var target: String?
    public var environment: String?
    public var outcome: String
    public var detail: String?

    init(_ m: AuditEventModel) {
        id = m.id!
        at = m.at
        actor = m.actor
        address = m.address
        action = m.action
        target = m.target
        environment = m.environment
        outcome = m.outcome
        detail = m.detail
    }

    static let csvHeader = "at,actor,address,action,target,environment,outcome,detail"

    /// One CSV line (RFC 4180 quoting); cells that a spreadsheet would run as a formula are quoted
    /// with a leading apostrophe.
    var csvLine: String {
        let cells = [ISO8601DateFormatter().string(from: at), actor, address ?? "", action, target ?? "", environment ?? "", outcome, detail ?? ""]
        return cells.map { cell -> String in
            var c = cell
            if let first = c.first, "=+-@".contains(first) { c = "'" + c }
            if c.contains(where: { ",\"\n\r".contains($0) }) { return "\"" + c.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            return c
        }.joined(separator: ",")
    }
}
