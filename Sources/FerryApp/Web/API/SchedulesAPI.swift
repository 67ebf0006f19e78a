import Fluent
import Foundation
import SupersetKit
import Vapor

/// `/api/schedules`: thin handlers over `ScheduleService`.
enum SchedulesAPI {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.api(.schedules), use: list)
        routes.post(.api(.schedules), use: create)
        routes.get(.api(.schedule(.key)), use: show)
        routes.put(.api(.schedule(.key)), use: update)
        routes.delete(.api(.schedule(.key)), use: delete)
    }

    struct ListResponse: Content { var items: [ScheduleDTO] }

    @Sendable static func list(req: Request) async throws -> ListResponse {
        var items: [ScheduleDTO] = []
        for m in try await ScheduleModel.query(on: req.db).sort(\.$name).all() where await req.permitsReading(m) { items.append(ScheduleDTO(m)) }
        return ListResponse(items: items)
    }

    @Sendable static func show(req: Request) async throws -> ScheduleDTO {
        ScheduleDTO(try await req.readableSchedule(try req.idParameter()))
    }

    @Sendable static func create(req: Request) async throws -> Response {
        let input = try req.content.decode(ScheduleInput.self)
        let app = req.application
        let m = try await ScheduleService.save(input, id: nil, registry: app.taskEngine.registry, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db,
                                               authorize: req.authorizeScheduled)
        let response = try await ScheduleDTO(m).encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.schedule(.value(m.id!))).path)
        return response
    }

    @Sendable static func update(req: Request) async throws -> ScheduleDTO {
        let input = try req.content.decode(ScheduleInput.self)
        let app = req.application
        try await req.authorizeChange(of: try await req.readableSchedule(try req.idParameter()))
        return ScheduleDTO(try await ScheduleService.save(
            input, id: try req.idParameter(), registry: app.taskEngine.registry, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db,
            authorize: req.authorizeScheduled))
    }

    @Sendable static func delete(req: Request) async throws -> HTTPStatus {
        try await req.authorizeChange(of: try await req.readableSchedule(try req.idParameter()))
        try await ScheduleService.delete(try req.idParameter(), on: req.db)
        return .noContent
    }
}
