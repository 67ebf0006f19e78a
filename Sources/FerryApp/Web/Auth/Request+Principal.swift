import Fluent
import Foundation
import Vapor

extension Request {
    private struct PrincipalKey: StorageKey { typealias Value = Principal }

    /// Who is making this request; nil when no one is signed in. Set by `AuthMiddleware`.
    var principal: Principal? {
        get { storage[PrincipalKey.self] }
        set { storage[PrincipalKey.self] = newValue }
    }

    /// The signed-in principal, or a 401 problem.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw AuthErrors.unauthenticated }
        return principal
    }

    /// The name recorded as the actor of tasks, promotions and audit events.
    var userName: String { principal?.username ?? "anonymous" }

    /// Checks `permission` on the stored environment `env`; 403 naming both when it isn't
    /// granted. Notes the environment for the audit log.
    func authorize(_ permission: Permission, environment env: EnvironmentRef) throws {
        audit.environment = env
        guard try requirePrincipal().can(permission, environment: env) else {
            throw AuthErrors.forbidden(permission, environment: env.name)
        }
    }

    /// Whether the caller holds `permission` on `env`: the non-throwing check pages use to
    /// decide which actions they show.
    func permits(_ permission: Permission, environment env: EnvironmentRef) -> Bool {
        principal?.can(permission, environment: env) ?? false
    }

    /// Checks `permission` on every environment in `ids`, read from the store (once per GET:
    /// `environmentDirectory()`; an id of an environment deleted since is covered only by an
    /// unlimited grant or one naming that id); with none, any grant of it suffices.
    func authorize(_ permission: Permission, environmentIDs ids: [UUID]) async throws {
        let p = try requirePrincipal()
        if ids.isEmpty {
            guard p.can(permission) else { throw AuthErrors.forbidden(permission, environment: nil) }
            return
        }
        if p.canEverywhere(permission) { return }
        let directory = try await environmentDirectory()
        for id in ids {
            if let env = directory.byID[id] {
                try authorize(permission, environment: env)
            } else if !p.can(permission, environmentID: id, stage: nil) {
                throw AuthErrors.forbidden(permission, environment: directory.name(id))
            }
        }
    }

    /// Whether `authorize(_:environmentIDs:)` would let the caller through.
    func permits(_ permission: Permission, environmentIDs ids: [UUID]) async -> Bool {
        (try? await authorize(permission, environmentIDs: ids)) != nil
    }

    /// The environments the caller's `permission` covers, or nil when it covers every one:
    /// the filter of lists (tasks, plans, promotions, history, mappings, schedules).
    func visibleEnvironments(_ permission: Permission) async throws -> Set<UUID>? {
        let p = try requirePrincipal()
        if p.canEverywhere(permission) { return nil }
        let all = try await environmentDirectory().byID.values
        return Set(all.filter { p.can(permission, environment: $0) }.map(\.id))
    }

    /// Checks `permission` for settings not stored as they are (a new environment, the unsaved
    /// "test connection"): a grant must cover the stored environment of that name (when there is
    /// one) or the stage given, as a grant covers an environment by its id or by its stage.
    func authorizeUnsaved(_ permission: Permission, name: String, stage: String?) async throws {
        let p = try requirePrincipal()
        if p.canEverywhere(permission) { return }
        let stored = try await EnvironmentModel.query(on: db).filter(\.$name == name).first()
        guard p.can(permission, environmentID: stored?.id, stage: stage) else {
            throw AuthErrors.forbidden(permission, environment: name)
        }
    }

    /// Checks `environments:write` for what `input` would make: a new environment (judged on
    /// its stage, and on the stored one of that name), or the stored one `existing` after the
    /// edit (so a grant limited to dev can't move an environment into prod). A missing name is
    /// left to validation.
    func authorizeEnvironmentInput(_ input: EnvironmentInput, existing: EnvironmentModel?) async throws {
        let stage = input.stage ?? existing?.stage ?? "other"
        if let existing {
            var after = existing.ref
            after.stage = stage
            try authorize(.environmentsWrite, environment: after)
            return
        }
        let name = input.name ?? ""
        guard !name.isEmpty else { return }
        try await authorizeUnsaved(.environmentsWrite, name: name, stage: stage)
    }

    /// Checks `environments:write` on the stored environment `id` (404 when there is none), and
    /// returns it.
    @discardableResult
    func authorizeEnvironment(_ id: UUID) async throws -> EnvironmentModel {
        let env = try await EnvironmentService.find(id, on: db)
        try authorize(.environmentsWrite, environment: env.ref)
        return env
    }

    /// Whether the caller may start plugin `id` on the stored environment `env` (its declared
    /// permission, judged on that environment): what pages ask before showing a launcher.
    func permits(plugin id: String, environment env: EnvironmentModel) -> Bool { permits(plugin: id, environment: env.ref) }

    func permits(plugin id: String, environment env: EnvironmentRef) -> Bool {
        guard let permission = application.taskEngine.registry.plugin(id).flatMap({ Permission(rawValue: $0.permission) }) else { return false }
        return permits(permission, environment: env)
    }

    /// Checks that the caller may start an inventory sync of `env` (the plugin's permission).
    func authorizeSync(_ env: EnvironmentModel) async throws {
        _ = try await authorizeTask(plugin: InventorySyncPlugin.pluginID, params: .map(["environment": .string(env.id!.key)]))
    }

    /// Whether the caller may start (or answer) a task of plugin `id` with `params`.
    func permits(plugin id: String, params: BundleValue) async -> Bool {
        (try? await authorizeTask(plugin: id, params: params)) != nil
    }

    /// Checks that the caller may start (or answer) a task of plugin `id` with `params`: the
    /// plugin's permission on the environments of its scope, which the plugin reads from what
    /// the params name (the stored plan or promotion, not the params' claims). Returns the
    /// params with environments resolved to ids. 422 for params the engine would refuse.
    @discardableResult
    func authorizeTask(plugin id: String, params: BundleValue) async throws -> BundleValue {
        let (plugin, resolved, scope) = try await application.taskEngine.prepare(pluginID: id, params: params, on: db)
        let needed = scope.permission ?? plugin.permission
        guard let permission = Permission(rawValue: needed) else {
            throw AppError(.forbidden, code: "forbidden", key: "plugin_permission", ["plugin": plugin.id, "permission": needed])
        }
        try await authorize(permission, environmentIDs: scope.authorizedOn)
        if id == DashboardCheckPlugin.pluginID, params["llmProvider"] != nil, principal?.can(.settingsAdmin) != true {
            throw HealthPoliciesAPI.llmNeedsAdmin
        }
        return resolved
    }
}

/// The failures of authentication and authorisation, as problems.
enum AuthErrors {
    static let unauthenticated = AppError(
        .unauthorized, code: "unauthenticated", key: "unauthenticated")

    static func forbidden(_ permission: Permission, environment: String?) -> AppError {
        AppError(.forbidden, code: "forbidden", key: environment == nil ? "forbidden" : "forbidden_on",
                 ["permission": permission.rawValue, "environment": environment ?? ""])
    }

    static let tokenRefused = AppError(
        .unauthorized, code: "token_refused", key: "token_refused")

    static let csrf = AppError(
        .forbidden, code: "csrf", key: "csrf")
}

import SupersetKit
