import Foundation
import SupersetKit

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
    /// The environments (names) a task with these params touches: the per-environment limit applies.
    func environments(for params: BundleValue) -> [String]
    /// The environments `permission` is checked on before a user may start a task with these
    /// params: by default all it touches; a promotion is judged by its target only.
    func authorizationEnvironments(for params: BundleValue) -> [String]
    func run(_ context: TaskContext) async throws -> PluginOutcome
}

extension Plugin {
    public var resumable: Bool { false }
    public func environments(for params: BundleValue) -> [String] {
        params["environment"]?.stringValue.map { [$0] } ?? []
    }
    public func authorizationEnvironments(for params: BundleValue) -> [String] { environments(for: params) }
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
