import Fluent
import Foundation
import SupersetKit
import Vapor

/// The schedules page: list, add (with every field's error shown), enable/disable, delete.
enum SchedulesPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.schedulesPage, use: list)
        routes.post(.schedulesPage, use: create)
        routes.post(.scheduleTogglePage(.key), use: toggle)
        routes.post(.scheduleDeletePage(.key), use: delete)
    }

    static func model(_ req: Request, form: SchedulesPage.Model.Form = .init(), error: AppError? = nil, flash: String? = nil) async throws -> SchedulesPage.Model {
        var schedules: [ScheduleDTO] = []
        let names = try await req.environmentDirectory()
        for m in try await ScheduleModel.query(on: req.db).sort(\.$name).all() where await req.permitsReading(m) {
            var shown = ScheduleDTO(m)
            shown.params = names.naming(shown.params, keys: req.application.taskEngine.registry.plugin(m.pluginID)?.environmentParams ?? [])
            schedules.append(shown)
        }
        var errors: [String: String] = [:]
        for e in error?.fields ?? [] {
            let key = e.field.hasPrefix("params") ? "params" : e.field
            errors[key] = [errors[key], "\(e.field): \(req.localizer.fieldText(e))"].compactMap { $0 }.joined(separator: "; ")
        }
        return SchedulesPage.Model(
            schedules: schedules, plugins: req.application.taskEngine.registry.all.map(\.id), form: form, errors: errors,
            formError: error.map { $0.fields.isEmpty ? req.localizer.problemText($0) : req.localizer.t("environment_form.fix_fields") }, flash: flash,
            canWrite: req.principal?.can(.schedulesWrite) ?? false)
    }

    @Sendable static func list(req: Request) async throws -> Response {
        let done = try? req.query.get(String.self, at: "done")
        let flash = done.flatMap { ["saved", "deleted", "toggled"].contains($0) ? req.localizer.t("schedules.flash.\($0)") : nil }
        return Layout.response(SchedulesPage.View(model: try await model(req, flash: flash), localizer: req.localizer), request: req)
    }

    @Sendable static func create(req: Request) async throws -> Response {
        struct Form: Decodable { var name: String?; var plugin: String?; var params: String?; var cron: String?; var timeZone: String? }
        let f = try req.content.decode(Form.self)
        let typed = SchedulesPage.Model.Form(name: f.name ?? "", plugin: f.plugin ?? "", params: f.params ?? "{}", cron: f.cron ?? "", timeZone: f.timeZone ?? "UTC")
        do {
            let text = (f.params ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let params: BundleValue
            do { params = text.isEmpty ? .map([:]) : try BundleValue.parseJSON(Data(text.utf8)) } catch {
                throw AppError.validation([FieldError(field: "params", code: "invalid_json", key: "not_json", ["why": "\(error)"])])
            }
            let app = req.application
            _ = try await ScheduleService.save(
                ScheduleInput(name: f.name, plugin: f.plugin, params: params, cron: f.cron, timeZone: f.timeZone?.isEmpty == false ? f.timeZone : "UTC"),
                id: nil, registry: app.taskEngine.registry, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db,
                authorize: req.authorizeScheduled)
            return req.redirect(to: SiteURL.schedulesPage.path(query: ["done": "saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            let response = Layout.response(SchedulesPage.View(model: try await model(req, form: typed, error: e), localizer: req.localizer), request: req)
            response.status = e.status
            return response
        }
    }

    @Sendable static func toggle(req: Request) async throws -> Response {
        let s = try await req.readableSchedule(try req.idParameter())
        try await req.authorizeChange(of: s)
        let app = req.application
        _ = try await ScheduleService.save(ScheduleInput(enabled: !s.enabled), id: s.id, registry: app.taskEngine.registry, now: app.ferry.now(),
                                           newID: app.ferry.uuid(), on: req.db, authorize: req.authorizeScheduled)
        return req.redirect(to: SiteURL.schedulesPage.path(query: ["done": "toggled"]), redirectType: .normal)
    }

    @Sendable static func delete(req: Request) async throws -> Response {
        try await req.authorizeChange(of: try await req.readableSchedule(try req.idParameter()))
        try await ScheduleService.delete(try req.idParameter(), on: req.db)
        return req.redirect(to: SiteURL.schedulesPage.path(query: ["done": "deleted"]), redirectType: .normal)
    }
}
