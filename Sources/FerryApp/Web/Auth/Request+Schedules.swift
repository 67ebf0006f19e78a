import Foundation
import SupersetKit
import Vapor

/// Access to schedules, decided on the stored schedule and on what it becomes: a schedule is
/// read with `tasks:read`, and changed with `schedules:write` plus its plugin's permission, on
/// every environment its tasks touch.
extension Request {
    /// Whether the caller may see the stored schedule `m` (`tasks:read` on its environments).
    func permitsReading(_ m: ScheduleModel) async -> Bool {
        guard let p = principal else { return false }
        if p.canEverywhere(.tasksRead) { return true }
        guard let scope = await ScheduleService.scope(of: m, registry: application.taskEngine.registry, on: db) else { return false }
        return await permits(.tasksRead, environmentIDs: scope.touches)
    }

    /// The stored schedule `id`, when the caller may read it (404 otherwise, as for one that
    /// doesn't exist).
    func readableSchedule(_ id: UUID) async throws -> ScheduleModel {
        let m = try await ScheduleService.find(id, on: db)
        guard await permitsReading(m) else { throw AppError.notFound(.schedule, "\(id)") }
        return m
    }

    /// Checks that the caller may change or delete the stored schedule `m`: `schedules:write`
    /// and the plugin's permission on every environment it touches.
    func authorizeChange(of m: ScheduleModel) async throws {
        let p = try requirePrincipal()
        guard let scope = await ScheduleService.scope(of: m, registry: application.taskEngine.registry, on: db) else {
            // Its plan or environment is gone: only an unlimited holder may clean it up.
            guard p.canEverywhere(.schedulesWrite) else { throw AuthErrors.forbidden(.schedulesWrite, environment: nil) }
            return
        }
        try await authorize(.schedulesWrite, environmentIDs: scope.touches)
        // The plugin's permission on the stored scope as it is: no re-resolution, so a schedule
        // whose environment was deleted can still be switched off or removed.
        guard let permission = application.taskEngine.registry.plugin(m.pluginID).flatMap({ Permission(rawValue: $0.permission) }) else {
            guard p.canEverywhere(.schedulesWrite) else { throw AuthErrors.forbidden(.schedulesWrite, environment: nil) }
            return
        }
        try await authorize(permission, environmentIDs: scope.authorizedOn)
    }

    /// The check `ScheduleService.save` runs on the schedule as it will be: `schedules:write`
    /// and the plugin's permission on its environments. Returns the params to store.
    func authorizeScheduled(plugin: String, params: BundleValue) async throws -> BundleValue {
        let (_, resolved, scope) = try await application.taskEngine.prepare(pluginID: plugin, params: params, admitting: true, on: db)
        try await authorize(.schedulesWrite, environmentIDs: scope.touches)
        return try await authorizeTask(plugin: plugin, params: resolved)
    }
}
