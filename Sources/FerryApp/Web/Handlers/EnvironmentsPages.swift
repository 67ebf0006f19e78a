import Fluent
import Foundation
import Vapor

/// The environments pages: list, add, edit, delete, test, sync. Forms post and redirect
/// (post-redirect-get); a failed save re-renders the form with what was typed and the errors.
enum EnvironmentsPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.home) { req in req.redirect(to: SiteURL.dashboards.path) }
        routes.get(.environments, use: list)
        routes.get(.environmentNew, use: newForm)
        routes.post(.environments, use: create)
        routes.get(.environmentEdit(.key), use: editForm)
        routes.post(.environmentUpdate(.key), use: update)
        routes.post(.environmentDelete(.key), use: delete)
        routes.post(.environmentTest(.key), use: test)
        routes.post(.environmentSync(.key), use: sync)
    }

    static func listModel(_ req: Request, test: EnvironmentsPage.Model.TestOutcome? = nil, flash: String? = nil) async throws -> EnvironmentsPage.Model {
        let rows = try await EnvironmentService.list(on: req.db)
            .filter { req.permits(.environmentsRead, environment: $0.0.ref) }
            .map { env, sync in
                var row = EnvironmentsPage.Model.Row(EnvironmentDTO(env, sync: sync))
                row.canWrite = req.permits(.environmentsWrite, environment: env.ref)
                row.canSync = req.permits(plugin: InventorySyncPlugin.pluginID, environment: env)
                return row
            }
        return EnvironmentsPage.Model(rows: rows, canAdd: req.principal?.can(.environmentsWrite) ?? false, test: test, flash: flash)
    }

    @Sendable static func list(req: Request) async throws -> Response {
        let flashKey = try? req.query.get(String.self, at: "done")
        let flash = flashKey.flatMap { key -> String? in
            let name = (try? req.query.get(String.self, at: "name")) ?? ""
            guard ["saved", "deleted", "sync_started", "sync_running"].contains(key) else { return nil }
            return req.localizer.t("environments.flash.\(key)", ["name": name])
        }
        return Layout.response(EnvironmentsPage.View(model: try await listModel(req, flash: flash), localizer: req.localizer), request: req)
    }

    @Sendable static func newForm(req: Request) async throws -> Response {
        Layout.response(EnvironmentFormPage.View(model: .empty, localizer: req.localizer), request: req)
    }

    @Sendable static func editForm(req: Request) async throws -> Response {
        let env = try await req.authorizeEnvironment(try req.idParameter())
        return Layout.response(EnvironmentFormPage.View(model: .init(EnvironmentDTO(env, sync: nil)), localizer: req.localizer), request: req)
    }

    @Sendable static func create(req: Request) async throws -> Response {
        let input = try decodeForm(req)
        try await req.authorizeEnvironmentInput(input, existing: nil)
        do {
            let env = try await EnvironmentService.create(input, on: req.db, box: req.application.secretBox, now: req.application.ferry.now(), id: req.application.ferry.uuid())
            req.application.inventoryIndex.invalidate()
            await req.application.syncCoordinator.trigger(env.id!, user: req.userName)
            return req.redirect(to: SiteURL.environments.path(query: ["done": "saved", "name": env.name]), redirectType: .normal)
        } catch let error as AppError where error.status == .unprocessableEntity || error.status == .conflict {
            return formError(req, id: nil, input: input, error: error)
        }
    }

    @Sendable static func update(req: Request) async throws -> Response {
        let id = try req.idParameter()
        let input = try decodeForm(req)
        try await req.authorizeEnvironmentInput(input, existing: try await req.authorizeEnvironment(id))
        do {
            let env = try await EnvironmentService.update(id, input, on: req.db, box: req.application.secretBox, now: req.application.ferry.now())
            req.application.inventoryIndex.invalidate()
            return req.redirect(to: SiteURL.environments.path(query: ["done": "saved", "name": env.name]), redirectType: .normal)
        } catch let error as AppError where error.status == .unprocessableEntity || error.status == .conflict {
            return formError(req, id: id, input: input, error: error)
        }
    }

    static func formError(_ req: Request, id: UUID?, input: EnvironmentInput, error: AppError) -> Response {
        let response = Layout.response(EnvironmentFormPage.View(model: .init(id: id, input: input, error: error, localizer: req.localizer), localizer: req.localizer), request: req)
        response.status = error.status
        return response
    }

    /// Form bodies carry checkboxes as a hidden "false" followed by "true" when ticked.
    static func decodeForm(_ req: Request) throws -> EnvironmentInput {
        struct Form: Decodable {
            var name: String?
            var url: String?
            var authProvider: String?
            var username: String?
            var password: String?
            var stage: String?
            var verifyTLS: [String]?
            var isDefault: [String]?
            var parallelRequests: String?
        }
        let form = try req.content.decode(Form.self)
        return EnvironmentInput(
            name: form.name, url: form.url, authProvider: form.authProvider, username: form.username,
            password: form.password, verifyTLS: form.verifyTLS.map { $0.contains("true") } ?? false, stage: form.stage,
            isDefault: form.isDefault.map { $0.contains("true") } ?? false,
            // Not a number: 0, which validation refuses with the allowed range.
            parallelRequests: form.parallelRequests.map { Int($0.trimmingCharacters(in: .whitespaces)) ?? 0 })
    }

    @Sendable static func delete(req: Request) async throws -> Response {
        let id = try req.idParameter()
        let env = try await req.authorizeEnvironment(id)
        await req.application.syncCoordinator.cancel(id)
        try await EnvironmentService.delete(id, on: req.db)
        req.application.inventoryIndex.invalidate()
        return req.redirect(to: SiteURL.environments.path(query: ["done": "deleted", "name": env.name]), redirectType: .normal)
    }

    @Sendable static func test(req: Request) async throws -> Response {
        let env = try await EnvironmentService.find(try req.idParameter(), on: req.db)
        try req.authorize(.environmentsRead, environment: env.ref)
        var logger = req.logger
        logger[metadataKey: "environment"] = .string(env.name)
        let config = try EnvironmentService.clientConfiguration(env, box: req.application.secretBox, timeout: req.application.ferryConfiguration.interactiveTimeout)
        let result = await EnvironmentService.test(configuration: config, verifyTLS: env.verifyTLS, dependencies: req.application.ferry, logger: logger)
        let model = try await listModel(req, test: .init(environment: env.name, result: result))
        return Layout.response(EnvironmentsPage.View(model: model, localizer: req.localizer), request: req)
    }

    @Sendable static func sync(req: Request) async throws -> Response {
        let env = try await EnvironmentService.find(try req.idParameter(), on: req.db)
        try await req.authorizeSync(env)
        let sync = await req.application.syncCoordinator.trigger(env.id!, user: req.userName)
        return req.redirect(to: SiteURL.environments.path(query: ["done": sync.started ? "sync_started" : "sync_running", "name": env.name]), redirectType: .normal)
    }
}
