import Fluent
import Foundation
import SupersetKit
import Vapor

/// The tasks pages: list with filters and a health-check launcher, task detail with live log,
/// cancel and input. Forms post and redirect; an invalid input re-renders with the message.
enum TasksPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.tasksPage, use: list)
        routes.post(.tasksPage, use: start)
        routes.get(.taskPage(.key), use: show)
        routes.post(.taskCancelPage(.key), use: cancel)
        routes.post(.taskInputPage(.key), use: input)
        routes.get(.activityPage, use: activity)
    }

    /// The activity drawer's content (a fragment): the caller's unfinished tasks they may still
    /// read, never cached.
    @Sendable static func activity(req: Request) async throws -> Response {
        let names = try await req.environmentDirectory()
        var rows: [ActivityPanel.Model.Row] = []
        for task in try await TaskActivity.active(user: req.userName, on: req.db) where await req.permits(.tasksRead, environmentIDs: task.environmentIDs) {
            guard let status = TaskStatus(rawValue: task.status) else { continue }
            var row = ActivityPanel.Model.Row(id: task.id, plugin: task.pluginID, status: status, progress: task.progress, step: task.step,
                                              environments: task.environmentIDs.map(names.name))
            // The question, to answer in place, when the viewer may answer it (as the input route decides).
            if status == .awaitingInput, let stored = try await TaskModel.find(task.id, on: req.db) {
                row.canAnswer = await req.permits(plugin: stored.pluginID, params: (try? BundleValue.parseJSON(Data(stored.params.utf8))) ?? .map([:]))
                if row.canAnswer, let request = stored.inputRequest { row.input = try? BundleValue.parseJSON(Data(request.utf8)) }
            }
            rows.append(row)
        }
        var writer = HTMLWriter(csrfToken: req.pageContext.csrf ?? "", capacity: 4096)
        writer.write(ActivityPanel.View(model: .init(tasks: rows), localizer: req.localizer).content())
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(buffer: req.byteBufferAllocator.buffer(bytes: writer.bytes)))
    }

    @Sendable static func list(req: Request) async throws -> Response {
        let filter = try await TaskQueries.Filter(req)
        let done = try? req.query.get(String.self, at: "done")
        let (items, total) = try await TaskQueries.list(filter, on: req.db)
        let names = try await req.environmentDirectory()  // every name, for tasks that touch several
        // The filter offers only environments whose tasks the caller may read.
        let envs = req.environments(.tasksRead, in: names).map(\.name)
        let model = TasksPage.Model(
            tasks: items.map { TaskDTO($0, names: names) }, total: total, page: filter.page, perPage: filter.perPage, status: filter.status ?? "",
            plugin: filter.plugin ?? "", environment: filter.environment.map(names.name) ?? "", user: filter.user ?? "",
            plugins: req.application.taskEngine.registry.all.map(\.id), environments: envs,
            flash: done == "cancelled" ? req.localizer.t("tasks.flash.cancelled") : nil,
            healthCheckEnvironments: names.sortedByName.filter { req.permits(plugin: HealthCheckPlugin.pluginID, environment: $0) }.map(\.name))
        return Layout.response(TasksPage.View(model: model, localizer: req.localizer), request: req)
    }

    @Sendable static func start(req: Request) async throws -> Response {
        struct Form: Decodable { var plugin: String; var environment: String? }
        let form = try req.content.decode(Form.self)
        var params: [String: BundleValue] = [:]
        if let env = form.environment, !env.isEmpty { params["environment"] = .string(env) }
        let resolved = try await req.authorizeTask(plugin: form.plugin, params: .map(params))
        let task = try await req.application.taskEngine.submit(pluginID: form.plugin, params: resolved, user: req.userName, on: req.db)
        return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
    }

    static func model(_ req: Request, task: TaskModel, inputError: String? = nil) async throws -> TaskDetailPage.Model {
        let level = (try? req.query.get(String.self, at: "level")).flatMap { LogLevel(rawValue: $0) }
        let source = (try? req.query.get(String.self, at: "source")).flatMap { $0.isEmpty ? nil : $0 }
        // The newest 500 lines matching the filters; older ones are in the logs API.
        let from = max(0, task.logCount - 500)
        let lines = try await TaskStore.logs(task.id!, filter: .init(minLevel: level, source: source, from: level == nil && source == nil ? from : 0, limit: 500), on: req.db)
        let sources = ["engine", "plugin", "superset_api", "bundle", "git", "storage", "scheduler"]
        let params = (try? BundleValue.parseJSON(Data(task.params.utf8))) ?? .map([:])
        let names = try await req.environmentDirectory()
        var shown = TaskDTO(task, names: names)
        shown.params = names.naming(shown.params, keys: req.application.taskEngine.registry.plugin(task.pluginID)?.environmentParams ?? [])
        return TaskDetailPage.Model(task: shown, lines: lines, level: level?.rawValue ?? "", source: source ?? "", sources: sources,
                                    flash: nil, inputError: inputError,
                                    canCancel: await req.permits(.tasksCancel, environmentIDs: task.environmentIDs),
                                    canAnswer: await req.permits(plugin: task.pluginID, params: params),
                                    reportID: try await ReportService.exists(taskID: task.id!, on: req.db) ? task.id : nil)
    }

    @Sendable static func show(req: Request) async throws -> Response {
        let task = try await TasksAPI.find(req)
        return Layout.response(TaskDetailPage.View(model: try await model(req, task: task), localizer: req.localizer), request: req)
    }

    @Sendable static func cancel(req: Request) async throws -> Response {
        try await req.authorize(.tasksCancel, environmentIDs: try await TasksAPI.find(req).environmentIDs)
        let task = try await req.application.taskEngine.cancel(try req.idParameter(), on: req.db)
        return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
    }

    /// Form fields are named `input.<property>`; values are typed by the request's schema.
    @Sendable static func input(req: Request) async throws -> Response {
        let task = try await TasksAPI.find(req)
        try await req.authorizeTask(plugin: task.pluginID, params: (try? BundleValue.parseJSON(Data(task.params.utf8))) ?? .map([:]))
        let schema = task.inputRequest.flatMap { try? BundleValue.parseJSON(Data($0.utf8)) }?["schema"] ?? .map([:])
        let form = (try? req.content.decode([String: String].self)) ?? [:]
        var value: [String: BundleValue] = [:]
        for (name, prop) in schema["properties"]?.mapValue ?? [:] {
            let raw = form["input.\(name)"]
            switch prop["type"]?.stringValue {
            case "boolean": value[name] = .bool(raw == "true" || raw == "on")
            case "integer": if let raw, !raw.isEmpty { value[name] = Int(raw).map(BundleValue.int) ?? .string(raw) }
            case "number": if let raw, !raw.isEmpty { value[name] = Double(raw).map(BundleValue.double) ?? .string(raw) }
            default: if let raw, !raw.isEmpty { value[name] = .string(raw) }
            }
        }
        do {
            try await req.application.taskEngine.provideInput(task.id!, value: .map(value), on: req.db)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            let response = Layout.response(TaskDetailPage.View(model: try await model(req, task: task, inputError: req.localizer.problemText(e)), localizer: req.localizer), request: req)
            response.status = e.status
            return response
        }
        return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
    }
}
