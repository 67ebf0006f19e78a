import Foundation
import Vapor

/// An environment as the API returns it. Has no password field: the password is write-only.
public struct EnvironmentDTO: Content, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var url: String
    public var authProvider: String
    public var username: String
    public var verifyTLS: Bool
    /// Requests Ferry may send this Superset at once.
    public var parallelRequests: Int
    public var stage: String
    public var isDefault: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var sync: InventorySyncDTO?
}

/// The state of an environment's inventory.
public struct InventorySyncDTO: Content, Sendable, Equatable {
    public var status: String
    public var startedAt: Date?
    public var finishedAt: Date?
    /// When the inventory shown was last refreshed successfully.
    public var succeededAt: Date?
    public var error: String?
    public var counts: [String: Int]
}

extension EnvironmentDTO {
    init(_ m: EnvironmentModel, sync: InventorySyncModel?) {
        self.init(
            id: m.id!, name: m.name, url: m.url, authProvider: m.authProvider, username: m.username, verifyTLS: m.verifyTLS,
            parallelRequests: m.parallelRequests, stage: m.stage, isDefault: m.isDefault, createdAt: m.createdAt, updatedAt: m.updatedAt, sync: sync.map(InventorySyncDTO.init))
    }
}

extension InventorySyncDTO {
    init(_ s: InventorySyncModel) {
        let counts = (try? JSONDecoder().decode([String: Int].self, from: Data(s.counts.utf8))) ?? [:]
        self.init(status: s.status, startedAt: s.startedAt, finishedAt: s.finishedAt, succeededAt: s.succeededAt, error: s.error, counts: counts)
    }
}

/// The outcome of "test connection": ok with the version, or a structured reason.
public struct ConnectionTestResult: Content, Sendable, Equatable {
    public var ok: Bool
    /// Superset's version when ok.
    public var version: String?
    /// When not ok: unreachable, not_superset, bad_credentials, tls, timeout, forbidden, http_error, invalid_response...
    public var reason: String?
    public var message: String
    public var loginOK: Bool
    public var csrfOK: Bool
    public var latencyMs: Int?
}
