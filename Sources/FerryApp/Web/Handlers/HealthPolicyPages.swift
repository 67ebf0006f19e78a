import Fluent
import Foundation
import SupersetKit
import Vapor

/// The health policies' pages: the list (policies of the environments the viewer may read)
/// with the form that adds one, a policy's form, run now and delete. Access is decided as in
/// `HealthPoliciesAPI`, through its functions: `health:run` on the environment named and on the
/// stored policy's, and `settings:admin` to name channels the policy doesn't send through yet.
/// Forms post and redirect; a refused form is shown again with what was sent and why.
enum HealthPolicyPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.healthPoliciesPage, use: list)
        routes.post(.healthPoliciesPage, use: create)
        routes.get(.healthPolicyPage(.key), use: edit)
        routes.post(.healthPolicyPage(.key), use: update)
        routes.post(.healthPolicyDeletePage(.key), use: delete)
        routes.post(.healthPolicyRunPage(.key), use: run)
    }

    // MARK: - Models

    /// What the form offers for `environment`: the environments the viewer may run checks on,
    /// that environment's dashboards in the inventory, every channel, the time zones.
    static func options(_ req: Request, environment: UUID?, names: EnvironmentDirectory) async throws -> HealthPolicyForm.Options {
        var o = HealthPolicyForm.Options()
        o.environments = runnableEnvironments(req, names: names)
        if let environment {
            var seen = Set<Int>()
            o.dashboards = try await InventoryItemModel.query(on: req.db).filter(\.$environmentID == environment)
                .filter(\.$kind == AssetKind.dashboard.rawValue).all()
                .filter { seen.insert($0.supersetID).inserted }
                .sorted { ($0.name.lowercased(), $0.supersetID) < ($1.name.lowercased(), $1.supersetID) }
                .map { HealthPolicyForm.Dashboard(id: $0.supersetID, title: $0.name) }
        }
        o.channels = try await ChannelService.list(on: req.db).map {
            HealthPolicyForm.Channel(id: $0.id!, name: $0.name, kind: ChannelKind(rawValue: $0.kind) ?? .email, active: $0.active)
        }
        o.canNameChannels = req.principal?.can(.settingsAdmin) ?? false
        o.llmProviders = try await LLMProviderService.list(on: req.db).map {
            HealthPolicyForm.Provider(id: $0.id!, name: $0.name, model: $0.model, active: $0.active)
        }
        return o
    }

    /// The environments the viewer may run checks on (`health:run`), by name.
    static func runnableEnvironments(_ req: Request, names: EnvironmentDirectory) -> [HealthPolicyForm.Choice] {
        req.environments(.healthRun, in: names).map { HealthPolicyForm.Choice(id: $0.id, name: $0.name) }
    }

    /// The environment `text` (id or name) names among `environments`.
    static func runnable(_ text: String?, in environments: [HealthPolicyForm.Choice]) -> HealthPolicyForm.Choice? {
        guard let t = text?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return nil }
        return environments.first { $0.id.key == t.lowercased() || $0.name == t }
    }

    /// The form of `m` as stored.
    static func form(_ m: HealthPolicyModel, names: EnvironmentDirectory) -> HealthPolicyForm.Model {
        HealthPolicyForm.Model(
            name: m.name, environment: m.environmentID, environmentName: names.name(m.environmentID), dashboards: Set(m.dashboardIDs), search: m.search ?? "",
            weekdays: Set(m.weekdayList), windowStart: m.windowStart, windowEnd: m.windowEnd, timeZone: m.timeZone, everyMinutes: m.everyMinutes,
            alert: HealthAlert(rawValue: m.alert) ?? .fail, notifyOwners: m.notifyOwners, ownerChannel: m.ownerChannelID, channels: Set(m.channelIDs),
            render: m.render, active: m.active, llmProvider: m.llmProviderID)
    }

    /// The list page: the policies of readable environments, and the add form (`editor`, or a
    /// fresh one for `environment`: id or name, by default the first the viewer may run checks on).
    static func listModel(_ req: Request, environment: String? = nil, editor: HealthPolicyForm.State? = nil, flash: String? = nil,
                          error: String? = nil) async throws -> HealthPoliciesPage.Model {
        let names = try await req.environmentDirectory()
        let channels = Dictionary(try await ChannelService.list(on: req.db).map { ($0.id!, $0.name) }, uniquingKeysWith: { a, _ in a })
        let rows = try await HealthPolicyModel.query(on: req.db).sort(\.$name).all().compactMap { m -> HealthPoliciesPage.Model.Row? in
            guard let env = names.byID[m.environmentID], req.permits(.inventoryRead, environment: env) else { return nil }
            let dto = HealthPolicyService.dto(m, names: names)
            return HealthPoliciesPage.Model.Row(
                policy: dto, channels: dto.channels.compactMap { channels[$0] }.sorted { $0.localizedStandardCompare($1) == .orderedAscending },
                ownerChannel: dto.notifyOwners ? dto.ownerChannel.flatMap { channels[$0] } : nil, canRun: req.permits(.healthRun, environment: env))
        }
        var state: HealthPolicyForm.State
        if let editor {
            state = editor
            state.options = try await options(req, environment: editor.form.environment, names: names)
        } else {
            let all = runnableEnvironments(req, names: names)
            state = HealthPolicyForm.State()
            if let env = runnable(environment, in: all) ?? all.first {
                state.form.environment = env.id
                state.form.environmentName = env.name
            }
            state.options = try await options(req, environment: state.form.environment, names: names)
        }
        return HealthPoliciesPage.Model(rows: rows, editor: state, flash: flash, error: error)
    }

    // MARK: - Pages

    @Sendable static func list(req: Request) async throws -> Response {
        struct Q: Decodable { var environment: String?; var done: String? }
        let q = try req.decodeQuery(Q.self)
        let flash = q.done.flatMap { ["created", "saved", "deleted"].contains($0) ? req.localizer.t("health_policies.flash.\($0)") : nil }
        return req.page(HealthPoliciesPage.View(model: try await listModel(req, environment: q.environment, flash: flash), localizer: req.localizer))
    }

    /// A policy's form: `inventory:read` on its environment to see it, `health:run` to change
    /// it; `?environment=` moves the form to another environment the viewer may run checks on.
    @Sendable static func edit(req: Request) async throws -> Response {
        let m = try await HealthPolicyService.find(try req.idParameter(), on: req.db)
        try await req.authorize(.inventoryRead, environmentIDs: [m.environmentID])
        struct Q: Decodable { var environment: String? }
        let q = try req.decodeQuery(Q.self)
        let names = try await req.environmentDirectory()
        let canSave = await req.permits(.healthRun, environmentIDs: [m.environmentID])
        var state = HealthPolicyForm.State(form: form(m, names: names))
        if canSave, let moved = runnable(q.environment, in: runnableEnvironments(req, names: names)) {
            state.form.environment = moved.id
            state.form.environmentName = moved.name
        }
        state.options = try await options(req, environment: state.form.environment, names: names)
        return req.page(HealthPolicyPage.View(model: .init(id: m.id!, name: m.name, editor: state, canSave: canSave), localizer: req.localizer))
    }

    // MARK: - Saving

    /// The form as sent: checkboxes come as a hidden "false" and "true" when ticked, lists as
    /// repeated fields.
    struct Form: Decodable {
        var name: String?
        var environment: String?
        var dashboards: [String]?
        var search: String?
        var weekdays: [String]?
        var windowStart: String?
        var windowEnd: String?
        var timeZone: String?
        var everyMinutes: String?
        var alert: String?
        var notifyOwners: [String]?
        var ownerChannel: String?
        var channels: [String]?
        var render: [String]?
        var active: [String]?
        var llmProvider: String?
    }

    /// The policy `f` asks for, the form to show it again, and the values that aren't what
    /// the form offers (a tampered form: each field named).
    static func parse(_ f: Form, names: EnvironmentDirectory) -> (HealthPolicyInput, HealthPolicyForm.Model, [FieldError]) {
        var errors: [FieldError] = []
        func fail(_ field: String, _ key: String, _ values: [String: String] = [:]) { errors.append(FieldError(field: field, code: "invalid", key: key, values)) }
        func number(_ text: String?) -> Int? { text.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        let dashboards = (f.dashboards ?? []).compactMap { text -> Int? in
            guard let id = number(text), id >= 1, id <= Int(Int32.max) else { fail("dashboards", "not_dashboard_id", ["text": String(text.prefix(20))]); return nil }
            return id
        }
        let weekdays = (f.weekdays ?? []).compactMap { text -> Int? in
            guard let d = number(text), (0...6).contains(d) else { fail("weekdays", "not_day", ["text": String(text.prefix(20))]); return nil }
            return d
        }
        let channels = (f.channels ?? []).compactMap { text -> UUID? in
            guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespaces)) else { fail("channels", "not_channel", ["text": String(text.prefix(40))]); return nil }
            return id
        }
        var ownerChannel: UUID?
        if let text = f.ownerChannel?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            ownerChannel = UUID(uuidString: text)
            if ownerChannel == nil { fail("ownerChannel", "not_channel", ["text": String(text.prefix(40))]) }
        }
        var llmProvider: UUID?
        if let text = f.llmProvider?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            llmProvider = UUID(uuidString: text)
            if llmProvider == nil { fail("llmProvider", "not_llm", ["text": String(text.prefix(40))]) }
        }
        var alert: HealthAlert?
        if let text = f.alert, !text.isEmpty {
            alert = HealthAlert(rawValue: text)
            if alert == nil { fail("alert", "one_of", ["values": HealthAlert.allCases.map(\.rawValue).joined(separator: ", ")]) }
        }
        func ticked(_ values: [String]?, default value: Bool) -> Bool { values.map { $0.contains("true") } ?? value }
        // Not a number: out of range, which validation refuses with the range allowed.
        let start = f.windowStart.map { number($0) ?? -1 } ?? -1
        let end = f.windowEnd.map { number($0) ?? 0 } ?? 0
        let every = f.everyMinutes.flatMap { text -> Int? in text.isEmpty ? nil : (number(text) ?? 0) }
        let zone = f.timeZone?.trimmingCharacters(in: .whitespaces).nonEmpty ?? "UTC"
        let input = HealthPolicyInput(
            name: f.name ?? "", environment: f.environment ?? "", dashboards: dashboards, search: f.search, weekdays: weekdays, windowStart: start,
            windowEnd: end, timeZone: zone, everyMinutes: every, alert: alert, notifyOwners: ticked(f.notifyOwners, default: false),
            ownerChannel: ownerChannel, channels: channels, render: ticked(f.render, default: true), active: ticked(f.active, default: true),
            llmProvider: llmProvider)
        let env = f.environment.flatMap { names.resolve($0) }
        let typed = HealthPolicyForm.Model(
            name: input.name, environment: env?.id, environmentName: env?.name ?? "", dashboards: Set(dashboards), search: f.search ?? "",
            weekdays: Set(weekdays), windowStart: start, windowEnd: end, timeZone: zone, everyMinutes: every ?? 15, alert: alert ?? .fail,
            notifyOwners: input.notifyOwners ?? false, ownerChannel: ownerChannel, channels: Set(channels), render: input.render ?? true,
            active: input.active ?? true, llmProvider: llmProvider)
        return (input, typed, errors)
    }

    @Sendable static func create(req: Request) async throws -> Response {
        try await save(req, id: nil)
    }

    @Sendable static func update(req: Request) async throws -> Response {
        try await save(req, id: try req.idParameter())
    }

    /// Saves the form as policy `id` (nil: a new one) and opens the list; a form refused (422,
    /// 409, or channels named without `settings:admin`: 403) is shown again with why.
    static func save(_ req: Request, id: UUID?) async throws -> Response {
        let f = (try? req.content.decode(Form.self)) ?? Form()
        let names = try await req.environmentDirectory()
        let (input, typed, invalid) = parse(f, names: names)
        req.audit.action = id == nil ? "health_policy.create" : "health_policy.update"
        req.audit.target = input.name.trimmingCharacters(in: .whitespaces).nonEmpty
        do {
            // As the API: health:run on the stored policy's environment and on the one named.
            let (env, stored) = try await HealthPoliciesAPI.authorizeSave(req, input, id: id)
            if !invalid.isEmpty { throw AppError.validation(invalid) }
            if HealthPoliciesAPI.namesNewChannels(input, stored: stored) && req.principal?.can(.settingsAdmin) != true {
                // Shown again with the channels it sends through now, which this viewer may keep.
                var shown = typed
                shown.channels = Set(stored?.channelIDs ?? [])
                shown.ownerChannel = stored?.ownerChannelID
                return try await refused(req, id: id, form: shown, errors: ["channels": req.localizer.t("health_policies.channels_admin_only")],
                                         formError: nil, status: HealthPoliciesAPI.channelsNeedAdmin.status)
            }
            let m = try await HealthPoliciesAPI.storePolicy(req, input, environment: env, id: id)
            req.audit.target = m.name
            return req.redirect(to: SiteURL.healthPoliciesPage.path(query: ["done": id == nil ? "created" : "saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            var errors = req.localizer.fieldMessages(e)
            // The LLM provider is picked from a list: only a stale or tampered form is refused, told in one sentence.
            if errors["llmProvider"] != nil { errors["llmProvider"] = req.localizer.t("health_policies.llm_invalid") }
            return try await refused(req, id: id, form: typed, errors: errors, formError: e.fields.isEmpty ? req.localizer.problemText(e) : nil, status: e.status)
        }
    }

    /// The form again, as sent, with why it wasn't saved: on the list page when adding, on the
    /// policy's page when editing.
    static func refused(_ req: Request, id: UUID?, form: HealthPolicyForm.Model, errors: [String: String], formError: String?,
                        status: HTTPResponseStatus) async throws -> Response {
        var state = HealthPolicyForm.State(form: form, errors: errors, formError: formError)
        let names = try await req.environmentDirectory()
        // The dashboards offered are those of an environment the viewer may run checks on.
        if let env = form.environment, runnable(env.key, in: runnableEnvironments(req, names: names)) == nil {
            state.form.environment = nil
            state.form.environmentName = ""
        }
        guard let id else {
            return req.page(HealthPoliciesPage.View(model: try await listModel(req, editor: state), localizer: req.localizer), status: status)
        }
        let m = try await HealthPolicyService.find(id, on: req.db)
        if state.form.environment == nil {
            state.form.environment = m.environmentID
            state.form.environmentName = names.name(m.environmentID)
        }
        state.options = try await options(req, environment: state.form.environment, names: names)
        let canSave = await req.permits(.healthRun, environmentIDs: [m.environmentID])
        return req.page(HealthPolicyPage.View(model: .init(id: id, name: m.name, editor: state, canSave: canSave), localizer: req.localizer), status: status)
    }

    // MARK: - Delete and run

    /// Deletes a policy and its schedule (`health:run` on its environment).
    @Sendable static func delete(req: Request) async throws -> Response {
        let m = try await HealthPolicyService.find(try req.idParameter(), on: req.db)
        try await req.authorize(.healthRun, environmentIDs: [m.environmentID])
        req.audit.action = "health_policy.delete"
        req.audit.target = m.name
        try await HealthPolicyService.delete(m, on: req.db)
        return req.redirect(to: SiteURL.healthPoliciesPage.path(query: ["done": "deleted"]), redirectType: .normal)
    }

    /// Runs the policy now over all of its dashboards (`health:run` on its environment) and
    /// opens the task; a run refused is shown on the list.
    @Sendable static func run(req: Request) async throws -> Response {
        let m = try await HealthPolicyService.find(try req.idParameter(), on: req.db)
        try await req.authorize(.healthRun, environmentIDs: [m.environmentID])
        req.audit.action = HealthPolicyPlugin.pluginID
        req.audit.target = m.name
        do {
            let task = try await req.application.taskEngine.submit(pluginID: HealthPolicyPlugin.pluginID, params: .map(HealthPoliciesAPI.runParams(m)),
                                                                   user: req.userName, on: req.db)
            return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict || e.status == .tooManyRequests
            || e.status == .serviceUnavailable {
            return req.page(HealthPoliciesPage.View(model: try await listModel(req, error: req.localizer.problemText(e)), localizer: req.localizer), status: e.status)
        }
    }
}
