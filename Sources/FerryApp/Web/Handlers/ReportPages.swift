import Fluent
import Foundation
import Vapor

/// The reports center's pages: the list with its filters, and one report. Access as in
/// `ReportsAPI`: the list holds the reports whose every environment the viewer may read
/// (`tasks:read`), and one the viewer may not read is a 404. A refused filter shows the page
/// again with why (400), its values kept in the form.
enum ReportPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.reportsPage, use: list)
        routes.get(.reportPage(.key), use: show)
    }

    @Sendable static func list(req: Request) async throws -> Response {
        struct Q: Decodable { var kind: String?, status: String?, environment: String?, from: String?, to: String?, q: String? }
        let raw = (try? req.query.decode(Q.self)) ?? Q()
        let names = try await req.environmentDirectory()
        var model = ReportsPage.Model(
            filter: .init(kind: raw.kind ?? "", status: raw.status ?? "", environment: raw.environment ?? "", from: raw.from ?? "", to: raw.to ?? "",
                          q: raw.q ?? ""),
            environments: req.environments(.tasksRead, in: names).map { ReportsPage.Model.EnvironmentOption(id: $0.id, name: $0.name) })
        var status: HTTPResponseStatus = .ok
        do {
            let filter = try await ReportService.Filter(req)
            let (items, hasMore) = try await ReportService.list(filter, on: req.db)
            model.reports = items.map { ReportDTO($0, names: names, localizer: req.localizer, withDetails: false) }
            model.limit = filter.limit
            model.offset = filter.offset
            model.hasMore = hasMore
            // An environment given by name shows as picked in the list (whose values are ids).
            if let env = filter.environment { model.filter.environment = env.key }
        } catch let e as AppError where e.status == .unprocessableEntity {
            model.error = req.localizer.t("reports.filter_invalid", ["fields": e.fields.map(\.field).joined(separator: ", ")])
            status = .unprocessableEntity
        }
        return req.page(ReportsPage.View(model: model, localizer: req.localizer), status: status)
    }

    @Sendable static func show(req: Request) async throws -> Response {
        let report = try await req.readableReport(try req.idParameter())
        let names = try await req.environmentDirectory()
        let checked = report.details?.dashboardCheck?.environmentId.flatMap { names.byID[$0] }
        let model = ReportPage.Model(
            report: ReportDTO(report, names: names, localizer: req.localizer, withDetails: true),
            names: names.byID.mapValues(\.name),
            taskExists: try await TaskModel.find(report.taskID, on: req.db) != nil,
            canOpenChecks: checked.map { req.permits(.inventoryRead, environment: $0) } ?? false)
        return Layout.response(ReportPage.View(model: model, localizer: req.localizer), request: req)
    }
}
