import Foundation
import Vapor

/// The audit log's filter as the page and the API take it from a query string.
extension AuditLog.Filter {
    /// Reads the audit filter from the query: actor, action, environment, outcome, from, to
    /// (dates as YYYY-MM-DD, `to` inclusive), limit, offset.
    static func parse(_ req: Request) async throws -> (AuditLog.Filter, [String: String]) {
        struct Q: Decodable { var actor: String?; var action: String?; var environment: String?; var outcome: String?; var from: String?; var to: String?
                              var limit: Int?; var offset: Int? }
        let q: Q
        do { q = try req.query.decode(Q.self) } catch {
            throw AppError.validation([FieldError(field: "limit", code: "invalid", key: "audit_numbers")])
        }
        var f = Self(actor: q.actor, action: q.action, outcome: q.outcome)
        if let e = q.environment?.trimmingCharacters(in: .whitespaces), !e.isEmpty {
            // A name or id at the edge; the log is filtered by id (and by the name it was recorded under).
            let ref = try await req.environmentDirectory().resolve(e)
            f.environment = ref?.id
            f.environmentName = ref?.name ?? e
        }
        var errors: [FieldError] = []
        let day = DateFormatter()
        day.dateFormat = "yyyy-MM-dd"
        day.timeZone = TimeZone(identifier: "UTC")
        day.locale = Locale(identifier: "en_US_POSIX")
        if let t = q.from, !t.isEmpty {
            if let d = day.date(from: t) { f.from = d } else { errors.append(FieldError(field: "from", code: "invalid", key: "day_date")) }
        }
        if let t = q.to, !t.isEmpty {
            if let d = day.date(from: t) { f.to = d.addingTimeInterval(86400) } else { errors.append(FieldError(field: "to", code: "invalid", key: "day_date")) }
        }
        if let o = q.outcome, !o.isEmpty, !["success", "failure", "denied"].contains(o) {
            errors.append(FieldError(field: "outcome", code: "invalid", key: "audit_outcome"))
        }
        if let l = q.limit { if (1...10000).contains(l) { f.limit = l } else { errors.append(FieldError(field: "limit", code: "invalid", key: "between", ["min": "1", "max": "10000"])) } }
        if let o = q.offset {
            if (0...100_000_000).contains(o) { f.offset = o } else { errors.append(FieldError(field: "offset", code: "invalid", key: "between", ["min": "0", "max": "100000000"])) }
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        var shown: [String: String] = [:]
        for (k, v) in [("actor", q.actor), ("action", q.action), ("environment", q.environment), ("outcome", q.outcome), ("from", q.from), ("to", q.to)] {
            if let v, !v.isEmpty { shown[k] = v }
        }
        return (f, shown)
    }
}
