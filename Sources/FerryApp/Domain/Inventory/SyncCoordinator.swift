import Fluent
import Foundation
import Logging
import Vapor

/// Starts inventory syncs as `inventory.sync` tasks, so no request waits for Superset and every
/// sync has a task with a log, counts against its environment's limit and survives restarts:
/// on demand (`trigger`) and every `interval` seconds for all environments.
///
/// Invariant: at most one sync of an environment is queued or running at a time. The queue in
/// the store is what is checked, and this actor lets one trigger per environment check at a
/// time; two nodes triggering the same environment in the same instant may queue two, which
/// the per-environment limit then runs one after the other.
/// Side effects: task rows; in a process that runs no workers, the sync runs here (`runNow`).
actor SyncCoordinator {
    private var direct: [UUID: Task<Void, Never>] = [:]
    /// Environments whose trigger is between its check and its submit (actor reentrancy).
    private var checking: Set<UUID> = []
    private var loop: Task<Void, Never>?
    private var stopped = false
    private let databases: @Sendable () -> Database
    private let engine: @Sendable () -> TaskEngine
    private let logger: Logger

    init(databases: @escaping @Sendable () -> Database, engine: @escaping @Sendable () -> TaskEngine, logger: Logger) {
        self.databases = databases
        self.engine = engine
        self.logger = logger
    }

    /// What `trigger` did: queued a new sync, or found one queued or running.
    struct Triggered: Sendable {
        var started: Bool
        var taskID: UUID?
    }

    /// The sync of an environment that is queued or running, if any.
    static func active(_ environment: UUID, on db: Database) async throws -> TaskModel? {
        try await TaskModel.query(on: db)
            .filter(\.$pluginID == InventorySyncPlugin.pluginID)
            .filter(\.$environments == environment.key)
            .filter(\.$status ~~ [TaskStatus.pending.rawValue, TaskStatus.running.rawValue])
            .first()
    }

    /// Queues a sync of one environment unless one is queued or running already.
    @discardableResult
    func trigger(_ environmentID: UUID, user: String = "system") async -> Triggered {
        let db = databases()
        guard !stopped, checking.insert(environmentID).inserted else { return Triggered(started: false) }
        defer { checking.remove(environmentID) }
        guard let env = try? await EnvironmentModel.find(environmentID, on: db) else { return Triggered(started: false) }
        if let running = try? await Self.active(environmentID, on: db) { return Triggered(started: false, taskID: running.id) }
        let engine = engine()
        do {
            let task = try await engine.submit(pluginID: InventorySyncPlugin.pluginID, params: .map(["environment": .string(env.id!.key)]),
                                               user: user, on: db)
            let id = task.id!
            if !engine.runsWorkers {
                direct[id] = Task {
                    await engine.runNow(id)
                    await self.ranDirectly(id)
                }
            }
            return Triggered(started: true, taskID: id)
        } catch {
            logger.error("queueing an inventory sync failed", metadata: ["environment": .string(env.name), "error": .string("\(error)")])
            return Triggered(started: false)
        }
    }

    private func ranDirectly(_ id: UUID) { direct[id] = nil }

    /// Waits until no sync of the environment is queued or running (tests, and deleting an
    /// environment). Gives up after `timeout` seconds.
    func wait(_ environmentID: UUID, timeout: TimeInterval = 120) async {
        let db = databases()
        guard (try? await EnvironmentModel.find(environmentID, on: db)) != nil else { return }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, !Task.isCancelled {
            guard let task = try? await Self.active(environmentID, on: db) else { return }
            if let local = direct[task.id!] {
                await local.value
                continue
            }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Cancels the environment's queued or running sync (before the environment is deleted)
    /// and waits a few seconds for it to stop.
    func cancel(_ environmentID: UUID) async {
        let db = databases()
        guard let task = try? await Self.active(environmentID, on: db), let id = task.id else { return }
        _ = try? await engine().cancel(id, on: db)
        await wait(environmentID, timeout: 5)
    }

    func startPeriodic(interval: Double) {
        guard interval > 0, loop == nil else { return }
        loop = Task { [weak self] in
            while !Task.isCancelled {
                await self?.triggerAll()
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
            }
        }
    }

    func triggerAll() async {
        guard !stopped, !Task.isCancelled, let envs = try? await EnvironmentModel.query(on: databases()).all() else { return }
        for env in envs { if let id = env.id { await trigger(id, user: "scheduler") } }
    }

    func shutdown() async {
        stopped = true
        let periodic = loop
        loop = nil
        periodic?.cancel()
        await periodic?.value
        for task in direct.values { task.cancel() }
        for task in direct.values { await task.value }
        direct = [:]
    }
}

extension Application {
    private struct SyncKey: StorageKey { typealias Value = SyncCoordinator }

    var syncCoordinator: SyncCoordinator {
        get { required(SyncKey.self, "SyncCoordinator") }
        set { storage[SyncKey.self] = newValue }
    }
}
