import Fluent
import Foundation
import Vapor

extension ReportDTO: Content {}

/// `GET /api/reports` and `GET /api/reports/{id}`: thin handlers over `ReportService`. Reports
/// are read with `tasks:read`, like their tasks: a list holds only the reports whose every
/// environment the caller may read, and one report the caller may not read is a 404, as a
/// missing one (its existence isn't told).
enum ReportsAPI {
    static func register(_ app: Application) {
        app.get(.api(.reports), use: list)
        app.get(.api(.report(.key)), use: show)
    }

    struct ReportList: Content {
        var items: [ReportDTO]
        var limit: Int
        var offset: Int
        /// The `offset` of the next page, or nil when this is the last one.
        var nextOffset: Int?
    }

    @Sendable static func list(req: Request) async throws -> ReportList {
        let filter = try await ReportService.Filter(req)
        let (items, hasMore) = try await ReportService.list(filter, on: req.db)
        let names = try await req.environmentDirectory()
        let l = req.localizer
        return ReportList(items: items.map { ReportDTO($0, names: names, localizer: l, withDetails: false) }, limit: filter.limit,
                          offset: filter.offset, nextOffset: hasMore ? filter.offset + filter.limit : nil)
    }

    @Sendable static func show(req: Request) async throws -> ReportDTO {
        let report = try await req.readableReport(try req.idParameter())
        return ReportDTO(report, names: try await req.environmentDirectory(), localizer: req.localizer, withDetails: true)
    }
}

extension Request {
    /// The stored report `id` with its details, when the caller may read it (`tasks:read` on
    /// every environment its task touched; a task that touched none, such as a verification of
    /// backups or a push, only with `tasks:read` over every environment). 404 when it is missing
    /// or not the caller's to read.
    func readableReport(_ id: UUID) async throws -> ReportRecord {
        guard let report = try await ReportService.find(id, on: db),
              report.environmentIDs.isEmpty ? (principal?.canEverywhere(.tasksRead) ?? false) : await permits(.tasksRead, environmentIDs: report.environmentIDs)
        else {
            throw AppError(.notFound, code: "not_found", key: "report_not_found", ["id": id.key])
        }
        return report
    }
}

extension ReportService.Filter {
    /// The query of a report list (API and page): `kind`, `status`, `outcome`, `environment`
    /// (id or name), `from` and `to` (ISO 8601 dates or times; a date alone as `to` takes in that
    /// whole day, UTC), `q` (title contains), `limit` (1-200, 50) and `offset` (0-1,000,000),
    /// with the caller's readable environments. 422 naming each bad value, as every list's filter.
    init(_ req: Request) async throws {
        struct Q: Decodable {
            var kind: String?, status: String?, outcome: String?, environment: String?, from: String?, to: String?, q: String?, limit: String?, offset: String?
        }
        let q: Q
        do { q = try req.query.decode(Q.self) } catch {
            throw AppError.validation([FieldError(field: "query", code: "invalid", key: "report_query")])
        }
        self.init()
        var errors: [FieldError] = []
        func trimmed(_ s: String?) -> String? {
            guard let t = s?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return nil }
            return t
        }
        func oneOf<E: RawRepresentable & CaseIterable>(_ field: String, _ value: String?, _ type: E.Type) -> E? where E.RawValue == String {
            guard let v = trimmed(value) else { return nil }
            if let e = E(rawValue: v) { return e }
            errors.append(FieldError(field: field, code: "invalid", key: "must_be_one_of", ["values": E.allCases.map(\.rawValue).joined(separator: ", ")]))
            return nil
        }
        kind = oneOf("kind", q.kind, ReportKind.self)
        status = oneOf("status", q.status, ReportStatus.self)
        outcome = oneOf("outcome", q.outcome, HealthStatus.self)
        if let e = trimmed(q.environment) {
            if e.count > 255 {
                errors.append(FieldError(field: "environment", code: "too_long", key: "environment_ref"))
            } else if let ref = try await req.environmentDirectory().resolve(e) {
                environment = ref.id
            } else {
                errors.append(FieldError(field: "environment", code: "unknown", key: "no_environment", ["name": e]))
            }
        }
        for (field, raw) in [("from", q.from), ("to", q.to)] {
            guard let text = trimmed(raw) else { continue }
            guard text.count <= 40, let parsed = ReportDates.parse(text) else {
                errors.append(FieldError(field: field, code: "invalid", key: "iso_date"))
                continue
            }
            if field == "from" { from = parsed.date } else { to = parsed.dayOnly ? parsed.date.addingTimeInterval(86_400) : parsed.date }
        }
        if let from, let to, from >= to { errors.append(FieldError(field: "to", code: "invalid", key: "after_from")) }
        if let text = trimmed(q.q) {
            if text.count > 200 { errors.append(FieldError(field: "q", code: "too_long", key: "at_most_chars", ["max": "200"])) } else { self.text = text }
        }
        if let raw = trimmed(q.limit) {
            if let n = Int(raw), (1...Self.maxLimit).contains(n) { limit = n } else {
                errors.append(FieldError(field: "limit", code: "invalid", key: "whole_from_to", ["min": "1", "max": "\(Self.maxLimit)"]))
            }
        }
        if let raw = trimmed(q.offset) {
            if let n = Int(raw), (0...Self.maxOffset).contains(n) { offset = n } else {
                errors.append(FieldError(field: "offset", code: "invalid", key: "whole_from_to", ["min": "0", "max": "\(Self.maxOffset)"]))
            }
        }
        if !errors.isEmpty {
            throw AppError.validation(errors)
        }
        visible = try await req.visibleEnvironments(.tasksRead)
    }
}

/// The dates a report filter takes.
enum ReportDates {
    /// `2026-01-31` (midnight UTC, `dayOnly`) or an ISO 8601 time with its zone, with or without
    /// fractional seconds. Nil for anything else.
    static func parse(_ text: String) -> (date: Date, dayOnly: Bool)? {
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        if text.count == 10, let d = day.date(from: text) { return (d, true) }
        let time = ISO8601DateFormatter()
        time.formatOptions = [.withInternetDateTime]
        if let d = time.date(from: text) { return (d, false) }
        time.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = time.date(from: text) { return (d, false) }
        return nil
    }

    /// A date as the page's date inputs take it (`2026-01-31`, UTC).
    static func day(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
