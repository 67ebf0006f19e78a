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

    /// Checks `permission` on one environment (by name); 403 naming both when it isn't granted.
    /// Grants limited by stage need the environment's stage, read from the store.
    func authorize(_ permission: Permission, environment name: String) async throws {
        let p = try requirePrincipal()
        if p.canEverywhere(permission) { return }
        let stage = try await EnvironmentModel.query(on: db).filter(\.$name == name).first()?.stage
        guard p.can(permission, environment: name, stage: stage) else {
            throw AuthErrors.forbidden(permission, environment: name)
        }
    }

    /// Whether the caller holds `permission` on the environment `name` of stage `stage`: the
    /// non-throwing check pages use to decide which actions they show.
    func permits(_ permission: Permission, environment name: String, stage: String?) -> Bool {
        principal?.can(permission, environment: name, stage: stage) ?? false
    }

    /// Whether `authorize(_:environments:)` would let the caller through.
    func permits(_ permission: Permission, environments names: [String]) async -> Bool {
        (try? await authorize(permission, environments: names)) != nil
    }

    /// Whether the caller may start (or answer) a task of plugin `id` with `params`.
    func permits(plugin id: String, params: BundleValue) async -> Bool {
        guard let plugin = application.taskEngine.registry.plugin(id) else { return false }
        return (try? await authorize(plugin: plugin, params: params)) != nil
    }

    /// Checks `permission` on an environment that may not be stored yet (a new one, or an
    /// edit that renames it or moves it to another stage): judged on the name and stage given.
    func authorize(_ permission: Permission, environment name: String, stage: String?) throws {
        guard try requirePrincipal().can(permission, environment: name, stage: stage) else {
            throw AuthErrors.forbidden(permission, environment: name)
        }
    }

    /// Checks `environments:write` for what `input` would make: a new environment, or the stored
    /// one `existing` after the edit (so a grant limited to dev can't rename or move an
    /// environment into prod). A missing name is left to validation.
    func authorizeEnvironmentInput(_ input: EnvironmentInput, existing: EnvironmentModel?) throws {
        let name = input.name ?? existing?.name ?? ""
        guard !name.isEmpty else { return }
        try authorize(.environmentsWrite, environment: name, stage: input.stage ?? existing?.stage ?? "other")
    }

    /// Checks `environments:write` on the stored environment `id` (404 when there is none), and
    /// returns it.
    @discardableResult
    func authorizeEnvironment(_ id: UUID) async throws -> EnvironmentModel {
        let env = try await EnvironmentService.find(id, on: db)
        audit.environment = env.name
        try authorize(.environmentsWrite, environment: env.name, stage: env.stage)
        return env
    }

    /// Whether the caller may start plugin `id` on the stored environment `env` (its declared
    /// permission, judged on that environment): what pages ask before showing a launcher.
    func permits(plugin id: String, environment env: EnvironmentModel) -> Bool {
        guard let permission = application.taskEngine.registry.plugin(id).flatMap({ Permission(rawValue: $0.permission) }) else { return false }
        return permits(permission, environment: env.name, stage: env.stage)
    }

    /// Checks that the caller may start an inventory sync of `env` (the plugin's permission).
    func authorizeSync(_ env: EnvironmentModel) async throws {
        try await authorizeTask(plugin: InventorySyncPlugin.pluginID, params: .map(["environment": .string(env.name)]))
    }

    /// Checks `permission` on every environment in `names`; with none, any grant of it suffices.
    func authorize(_ permission: Permission, environments names: [String]) async throws {
        let p = try requirePrincipal()
        if names.isEmpty {
            guard p.can(permission) else { throw AuthErrors.forbidden(permission, environment: nil) }
            return
        }
        for name in names { try await authorize(permission, environment: name) }
    }

    /// Checks a promotion's permission on its target (when the input names one; validation
    /// reports a missing target), and notes the target for the audit log.
    func authorizePromotion(_ permission: Permission, target: String?) async throws {
        guard let target, !target.isEmpty else {
            guard try requirePrincipal().can(permission) else { throw AuthErrors.forbidden(permission, environment: nil) }
            return
        }
        audit.environment = target
        try await authorize(permission, environment: target)
    }

    /// `authorize(plugin:params:)` by plugin id; an unknown plugin is left to the engine's 422.
    func authorizeTask(plugin id: String, params: BundleValue) async throws {
        guard let plugin = application.taskEngine.registry.plugin(id) else { return }
        if let env = plugin.authorizationEnvironments(for: params).first { audit.environment = env }
        try await authorize(plugin: plugin, params: params)
    }

    /// Checks that the caller may start (or answer) a task of `plugin` with `params`.
    func authorize(plugin: any Plugin, params: BundleValue) async throws {
        guard let permission = Permission(rawValue: plugin.permission) else {
            throw AppError(.forbidden, code: "forbidden", detail: "Plugin '\(plugin.id)' needs '\(plugin.permission)', which no role can hold.")
        }
        try await authorize(permission, environments: plugin.authorizationEnvironments(for: params))
    }
}

/// The failures of authentication and authorisation, as problems.
enum AuthErrors {
    static let unauthenticated = AppError(
        .unauthorized, code: "unauthenticated",
        detail: "Sign in first, or send an API token as 'Authorization: Bearer <token>' (make one on your profile page).")

    static func forbidden(_ permission: Permission, environment: String?) -> AppError {
        AppError(.forbidden, code: "forbidden",
                 detail: environment.map { "You need '\(permission.rawValue)' on environment '\($0)'. Ask an administrator for a role that grants it." }
                    ?? "You need '\(permission.rawValue)'. Ask an administrator for a role that grants it.")
    }

    static let csrf = AppError(
        .forbidden, code: "csrf",
        detail: "The form's security token is missing or wrong (the page may be old). Reload the page and try again.")
}

import SupersetKit
