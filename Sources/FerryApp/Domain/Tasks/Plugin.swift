import Fluent
import Foundation
import SupersetKit

/// The environments a task touches (the per-environment limit, task lists and reads follow
/// them) and those a user's permission is checked on before starting it.
public struct TaskScope: Sendable, Equatable {
    public var touches: [UUID]
    public var authorizedOn: [UUID]
    /// The permission checked on `authorizedOn` when it isn't the plugin's own: a restore's plan,
    /// apply and rollback run the promotion plugins but are judged as restores (`restore:run`).
    public var permission: String?

    public init(touches: [UUID], authorizedOn: [UUID]? = nil, permission: String? = nil) {
        self.touches = touches
        self.authorizedOn = authorizedOn ?? touches
        self.permission = permission
    }
}

/// A capability Ferry runs as tasks (promotion, backup, health check...).
///
/// Contract: `run` does its work through the context only (logs, progress, Superset clients,
/// storage, input); it calls `context.step` at step boundaries, where cancellation is honoured;
/// it returns an outcome or throws (`TaskFailure` for a failure with advice; cancellation ends
/// the task `cancelled`). Params arrive validated against `paramsSchema`, defaults applied.
public protocol Plugin: Sendable {
    var id: String { get }
    var name: String { get }
    var description: String { get }
    var version: String { get }
    var paramsSchema: JSONSchema { get }
    /// The permission a user needs to start it (checked once accounts exist).
    var permission: String { get }
    /// Whether a task interrupted by a restart may run again from the start.
    var resumable: Bool { get }
    /// The params that name an environment. At the edges (API, schedules, CLI) they take an
    /// id or a name; the engine stores the id, so a rename never changes what a task touches.
    var environmentParams: [String] { get }
    /// What a task with these params (environment params already ids) touches and is
    /// authorised on. A plugin whose params name a stored resource (a plan, a promotion) reads
    /// it here and answers from it, refusing params that disagree with it (422): access is
    /// decided on what is stored, never on what a request claims.
    func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope
    /// Checks, before a new task is queued, that the resource its params name is waiting for
    /// exactly this task (a plan or promotion gets the one task Ferry queued for it, so none can
    /// be re-run or started around its state machine through `POST /api/tasks` or a schedule).
    /// Throws a problem saying what to do instead. Default: nothing to check.
    func admitsNewTask(_ params: BundleValue, on db: any Database) async throws
    func run(_ context: TaskContext) async throws -> PluginOutcome
}

extension Plugin {
    public var resumable: Bool { false }
    public var environmentParams: [String] { ["environment"] }
    public func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope {
        TaskScope(touches: environmentParams.compactMap { params[$0]?.stringValue.flatMap(UUID.init(uuidString:)) })
    }
    public func admitsNewTask(_ params: BundleValue, on db: any Database) async throws {}
}

/// How a task ended when the plugin returned normally.
public struct PluginOutcome: Sendable {
    public enum Kind: Sendable { case succeeded, partial }
    public var kind: Kind
    /// A JSON summary shown with the task.
    public var summary: BundleValue

    public static func succeeded(_ summary: BundleValue = .map([:])) -> PluginOutcome { .init(kind: .succeeded, summary: summary) }
    public static func partial(_ summary: BundleValue) -> PluginOutcome { .init(kind: .partial, summary: summary) }
}

/// A failure with its cause and what the operator should do next.
public struct TaskFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var nextAction: String
    public init(_ message: String, next nextAction: String) {
        self.message = message
        self.nextAction = nextAction
    }
    public var description: String { message }
}

/// The plugins Ferry knows, by id.
public struct PluginRegistry: Sendable {
    private(set) var plugins: [String: any Plugin] = [:]

    public init(_ plugins: [any Plugin] = []) {
        for p in plugins { register(p) }
    }

    public mutating func register(_ plugin: any Plugin) { plugins[plugin.id] = plugin }

    public func plugin(_ id: String) -> (any Plugin)? { plugins[id] }

    public var all: [any Plugin] { plugins.values.sorted { $0.id < $1.id } }
}
