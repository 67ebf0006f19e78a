import Fluent
import Foundation
import SupersetKit
import Vapor

/// `/api/plugins`, `/api/tasks`: thin handlers over the task engine.
enum TasksAPI {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.api(.plugins), use: plugins)
        routes.get(.api(.tasks), use: list)
        routes.post(.api(.tasks), use: create)
        routes.get(.api(.task(.key)), use: show)
        routes.post(.api(.taskCancel(.key)), use: cancel)
        routes.post(.api(.taskInput(.key)), use: input)
        routes.get(.api(.taskLogs(.key)), use: logs)
    }

    struct PluginList: Content { var items: [PluginDTO] }
    struct TaskList: Content {
        var items: [TaskDTO]
        var total: Int
        var page: Int
        var perPage: Int
    }
    struct CreateBody: Content {
        var plugin: String
        var params: BundleValue?
    }
    struct LogPage: Content {
        var items: [TaskLogLine]
        /// The `from` for the next page, or nil at the end.
        var next: Int?
    }

    @Sendable static func plugins(req: Request) async throws -> PluginList {
        PluginList(items: req.application.taskEngine.registry.all.map(PluginDTO.init))
    }

    @Sendable static func list(req: Request) async throws -> TaskList {
        let filter = try await TaskQueries.Filter(req)
        let (items, total) = try await TaskQueries.list(filter, on: req.db)
        let names = try await req.environmentDirectory()
        return TaskList(items: items.map { TaskDTO($0, names: names) }, total: total, page: filter.page, perPage: filter.perPage)
    }

    @Sendable static func create(req: Request) async throws -> Response {
        let body = try req.content.decode(CreateBody.self)
        let params = try await req.authorizeTask(plugin: body.plugin, params: body.params ?? .map([:]))
        let task = try await req.application.taskEngine.submit(pluginID: body.plugin, params: params, user: req.userName, on: req.db)
        let response = try await TaskDTO(task, names: try await req.environmentDirectory()).encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.task(.value(task.id!))).path)
        return response
    }

    @Sendable static func show(req: Request) async throws -> TaskDTO {
        TaskDTO(try await find(req), names: try await req.environmentDirectory())
    }

    @Sendable static func cancel(req: Request) async throws -> Response {
        try await req.authorize(.tasksCancel, environmentIDs: try await find(req).environmentIDs)
        let task = try await req.application.taskEngine.cancel(try req.idParameter(), on: req.db)
        return try await TaskDTO(task, names: try await req.environmentDirectory()).encodeResponse(status: .accepted, for: req)
    }

    @Sendable static func input(req: Request) async throws -> HTTPStatus {
        let value = try req.content.decode(BundleValue.self)
        let task = try await find(req)
        try await req.authorizeTask(plugin: task.pluginID, params: (try? BundleValue.parseJSON(Data(task.params.utf8))) ?? .map([:]))
        try await req.application.taskEngine.provideInput(try req.idParameter(), value: value, on: req.db)
        return .accepted
    }

    @Sendable static func logs(req: Request) async throws -> LogPage {
        let task = try await find(req)
        struct Q: Decodable { var level: String?; var source: String?; var search: String?; var from: Int?; var limit: Int? }
        let q: Q
        do { q = try req.query.decode(Q.self) } catch {
            throw AppError.validation([FieldError(field: "from", code: "invalid", key: "log_numbers")])
        }
        var errors: [FieldError] = []
        let level = q.level.flatMap { $0.isEmpty ? nil : $0 }.map { LogLevel(rawValue: $0) }
        if case .some(.none) = level {
            errors.append(FieldError(field: "level", code: "invalid", key: "must_be_one_of", ["values": "debug, info, warning, error"]))
        }
        let limit = q.limit ?? 500
        if !(1...5000).contains(limit) { errors.append(FieldError(field: "limit", code: "invalid", key: "between", ["min": "1", "max": "5000"])) }
        if !(0...Int(Int32.max)).contains(q.from ?? 0) { errors.append(FieldError(field: "from", code: "invalid", key: "between", ["min": "0", "max": "\(Int32.max)"])) }
        if (q.search ?? "").count > 500 { errors.append(FieldError(field: "search", code: "too_long", key: "at_most_chars", ["max": "500"])) }
        if !errors.isEmpty { throw AppError.validation(errors) }
        let lines = try await TaskStore.logs(task.id!, filter: .init(minLevel: level ?? nil, source: q.source, text: q.search, from: q.from ?? 0, limit: limit), on: req.db)
        return LogPage(items: lines, next: lines.count == limit ? (lines.last!.seq + 1) : nil)
    }

    /// The task of the request's id, when the caller may read it (`tasks:read` on every
    /// environment it touches).
    static func find(_ req: Request) async throws -> TaskModel {
        let id = try req.idParameter()
        guard let task = try await TaskModel.find(id, on: req.db) else { throw AppError.notFound(.task, "\(id)") }
        try await req.authorize(.tasksRead, environmentIDs: task.environmentIDs)
        return task
    }
}

extension TaskQueries.Filter {
    /// The filter of a task list request (API and page): status, plugin, environment, user, page, per_page.
    init(_ req: Request) async throws {
        struct Q: Decodable { var status: String?; var plugin: String?; var environment: String?; var user: String?; var page: Int?; var per_page: Int? }
        let q: Q
        do { q = try req.query.decode(Q.self) } catch {
            throw AppError.validation([FieldError(field: "page", code: "invalid", key: "page_numbers")])
        }
        let paging = try Paging(page: q.page, perPage: q.per_page)
        var environment: UUID?
        if let e = q.environment?.trimmingCharacters(in: .whitespaces), !e.isEmpty {
            guard let ref = try await req.environmentDirectory().resolve(e) else {
                throw AppError.validation([FieldError(field: "environment", code: "unknown", key: "no_environment", ["name": e])])
            }
            environment = ref.id
        }
        self.init(status: q.status, plugin: q.plugin, environment: environment, user: q.user, page: paging.page, perPage: paging.perPage)
        let principal = try req.requirePrincipal()
        if !principal.canEverywhere(.tasksRead) { readGrants = principal.grants.filter { $0.permission == .tasksRead } }
    }
}
