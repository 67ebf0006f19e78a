import Fluent
import Foundation
import Logging
import Vapor

/// Runs inventory syncs in the background so no request waits for Superset: on demand
/// (`trigger`) and every `interval` seconds for all environments.
///
/// Invariant: at most one sync per environment runs at a time in this process.
/// Side effects: spawns tasks; database writes through `InventorySync`.
/// Note: the durable task engine (issue 3) will replace the in-process tasks here.
actor SyncCoordinator {
    private var running: [UUID: Task<Void, Never>] = [:]
    private var loop: Task<Void, Never>?
    private let databases: @Sendable () -> Database
    private let box: SecretBox
    private let dependencies: FerryDependencies
    private let timeout: Double
    private let logger: Logger
    /// Called after every sync, successful or not (the search index reloads).
    private let onFinish: @Sendable () -> Void

    init(
        databases: @escaping @Sendable () -> Database, box: SecretBox, dependencies: FerryDependencies, timeout: Double, logger: Logger,
        onFinish: @escaping @Sendable () -> Void = {}
    ) {
        self.databases = databases
        self.box = box
        self.dependencies = dependencies
        self.timeout = timeout
        self.logger = logger
        self.onFinish = onFinish
    }

    /// Starts a sync of one environment unless one is already running. Returns whether it started.
    private var stopped = false

    @discardableResult
    func trigger(_ environmentID: UUID) -> Bool {
        if stopped || running[environmentID] != nil { return false }
        let db = databases()
        let task = Task { [box, dependencies, timeout, logger, onFinish] in
            _ = try? await InventorySync.run(
                environmentID: environmentID, on: db, box: box, dependencies: dependencies, timeout: timeout, logger: logger)
            onFinish()
            await self.finished(environmentID)
        }
        running[environmentID] = task
        return true
    }

    private func finished(_ id: UUID) { running[id] = nil }

    /// Waits for the running sync of an environment, if any (tests and shutdown).
    func wait(_ environmentID: UUID) async {
        await running[environmentID]?.value
    }

    func isRunning(_ environmentID: UUID) -> Bool { running[environmentID] != nil }

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
        for env in envs { if let id = env.id { trigger(id) } }
    }

    func shutdown() async {
        stopped = true
        let periodic = loop
        loop = nil
        periodic?.cancel()
        await periodic?.value
        for task in running.values { task.cancel() }
        for task in running.values { await task.value }
        running = [:]
    }
}

extension Application {
    private struct SyncKey: StorageKey { typealias Value = SyncCoordinator }

    var syncCoordinator: SyncCoordinator {
        get { required(SyncKey.self, "SyncCoordinator") }
        set { storage[SyncKey.self] = newValue }
    }
}
