import Fluent
import Foundation
import Vapor

/// `/api/environments`: thin handlers over `EnvironmentService`.
enum EnvironmentsAPI {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.api(.environments), use: list)
        routes.post(.api(.environments), use: create)
        routes.post(.api(.environmentTestUnsaved), use: testUnsaved)
        routes.get(.api(.environment(.key)), use: show)
        routes.put(.api(.environment(.key)), use: update)
        routes.delete(.api(.environment(.key)), use: delete)
        routes.post(.api(.environmentTest(.key)), use: test)
        routes.post(.api(.environmentSync(.key)), use: sync)
    }

    struct ListResponse: Content { var items: [EnvironmentDTO] }

    @Sendable static func list(req: Request) async throws -> ListResponse {
        ListResponse(items: try await EnvironmentService.list(on: req.db)
            .filter { req.permits(.environmentsRead, environment: $0.0.ref) }
            .map { EnvironmentDTO($0.0, sync: $0.1) })
    }

    @Sendable static func show(req: Request) async throws -> EnvironmentDTO {
        let id = try req.idParameter()
        let env = try await EnvironmentService.find(id, on: req.db)
        try req.authorize(.environmentsRead, environment: env.ref)
        return EnvironmentDTO(env, sync: try await EnvironmentService.sync(for: id, on: req.db))
    }

    @Sendable static func create(req: Request) async throws -> Response {
        let input = try req.content.decode(EnvironmentInput.self)
        try await req.authorizeEnvironmentInput(input, existing: nil)
        let env = try await EnvironmentService.create(input, on: req.db, box: req.application.secretBox, now: req.application.ferry.now(), id: req.application.ferry.uuid())
        req.application.inventoryIndex.invalidate()
        req.logger.info("environment created", metadata: ["environment": .string(env.name)])
        await req.application.syncCoordinator.trigger(env.id!, user: req.userName)
        let response = try await EnvironmentDTO(env, sync: nil).encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.environment(.value(env.id!))).path)
        return response
    }

    @Sendable static func update(req: Request) async throws -> EnvironmentDTO {
        let id = try req.idParameter()
        let input = try req.content.decode(EnvironmentInput.self)
        try await req.authorizeEnvironmentInput(input, existing: try await req.authorizeEnvironment(id))
        let env = try await EnvironmentService.update(id, input, on: req.db, box: req.application.secretBox, now: req.application.ferry.now())
        req.application.inventoryIndex.invalidate()
        req.logger.info("environment updated", metadata: ["environment": .string(env.name)])
        return EnvironmentDTO(env, sync: try await EnvironmentService.sync(for: id, on: req.db))
    }

    @Sendable static func delete(req: Request) async throws -> HTTPStatus {
        let id = try req.idParameter()
        try await req.authorizeEnvironment(id)
        await req.application.syncCoordinator.cancel(id)
        try await EnvironmentService.delete(id, on: req.db)
        req.application.inventoryIndex.invalidate()
        req.logger.info("environment deleted", metadata: ["environment_id": .string(id.uuidString)])
        return .noContent
    }

    @Sendable static func test(req: Request) async throws -> ConnectionTestResult {
        let env = try await EnvironmentService.find(try req.idParameter(), on: req.db)
        try req.authorize(.environmentsRead, environment: env.ref)
        var logger = req.logger
        logger[metadataKey: "environment"] = .string(env.name)
        let config = try EnvironmentService.clientConfiguration(env, box: req.application.secretBox, timeout: req.application.ferryConfiguration.interactiveTimeout)
        return await EnvironmentService.test(configuration: config, verifyTLS: env.verifyTLS, dependencies: req.application.ferry, logger: logger)
    }

    /// Tests settings before they are saved (the add form's "test" button).
    @Sendable static func testUnsaved(req: Request) async throws -> ConnectionTestResult {
        let input = try req.content.decode(EnvironmentInput.self)
        let valid = try input.validated(existing: nil)
        try await req.authorizeUnsaved(.environmentsWrite, name: valid.name, stage: valid.stage.rawValue)
        let config = EnvironmentService.clientConfiguration(valid, timeout: req.application.ferryConfiguration.interactiveTimeout)
        return await EnvironmentService.test(configuration: config, verifyTLS: valid.verifyTLS, dependencies: req.application.ferry, logger: req.logger)
    }

    struct SyncAccepted: Content {
        var started: Bool
        var status: String
        /// The `inventory.sync` task: the new one, or the one already queued or running.
        var taskId: UUID?
    }

    /// Queues an inventory sync (an `inventory.sync` task); answers 202 at once.
    @Sendable static func sync(req: Request) async throws -> Response {
        let env = try await EnvironmentService.find(try req.idParameter(), on: req.db)
        try await req.authorizeSync(env)
        let sync = await req.application.syncCoordinator.trigger(env.id!, user: req.userName)
        return try await SyncAccepted(started: sync.started, status: sync.started ? "started" : "already_running", taskId: sync.taskID)
            .encodeResponse(status: .accepted, for: req)
    }
}
