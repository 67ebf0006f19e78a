import AsyncHTTPClient
import Foundation
import Logging
import SupersetKit
import Vapor

/// The side effects Ferry's domain code reaches for, injected so tests control them.
///
/// Invariant: domain functions take what they need of this as arguments; nothing reads the clock,
/// makes UUIDs or talks to a Superset except through here.
public struct FerryDependencies: Sendable {
    public var now: @Sendable () -> Date
    public var uuid: @Sendable () -> UUID
    /// Builds a client for one environment.
    public var supersetClient: @Sendable (_ configuration: SupersetClientConfiguration, _ verifyTLS: Bool, _ logger: Logger) -> SupersetClient
    /// Plain HTTP to everything that isn't Superset (the identity provider).
    public var web: WebClient

    public init(
        now: @escaping @Sendable () -> Date,
        uuid: @escaping @Sendable () -> UUID,
        supersetClient: @escaping @Sendable (SupersetClientConfiguration, Bool, Logger) -> SupersetClient,
        web: WebClient
    ) {
        self.now = now
        self.uuid = uuid
        self.supersetClient = supersetClient
        self.web = web
    }

    /// The production wiring: system clock, random UUIDs, AsyncHTTPClient.
    public static func live(transport: AsyncHTTPClientTransport) -> FerryDependencies {
        FerryDependencies(
            now: { Date() },
            uuid: { UUID() },
            supersetClient: { config, verifyTLS, logger in
                SupersetClient(configuration: config, transport: transport.with(verifyTLS: verifyTLS), logger: logger)
            },
            web: .live)
    }
}

extension Application {
    private struct DependenciesKey: StorageKey { typealias Value = FerryDependencies }
    private struct ConfigurationKey: StorageKey { typealias Value = FerryConfiguration }
    private struct SecretBoxKey: StorageKey { typealias Value = SecretBox }
    private struct TransportKey: StorageKey { typealias Value = AsyncHTTPClientTransport }

    public var ferry: FerryDependencies {
        get {
            guard let d = storage[DependenciesKey.self] else { fatalError("Ferry dependencies are not configured") }
            return d
        }
        set { storage[DependenciesKey.self] = newValue }
    }

    public var ferryConfiguration: FerryConfiguration {
        get { storage[ConfigurationKey.self] ?? FerryConfiguration() }
        set { storage[ConfigurationKey.self] = newValue }
    }

    public var secretBox: SecretBox {
        get { required(SecretBoxKey.self, "Secret box") }
        set { storage[SecretBoxKey.self] = newValue }
    }

    var supersetTransport: AsyncHTTPClientTransport? {
        get { storage[TransportKey.self] }
        set { storage[TransportKey.self] = newValue }
    }
}

extension Application {
    /// A value `configure` stored; a missing one is a wiring bug, so it stops the process.
    func required<K: StorageKey>(_ key: K.Type, _ what: String) -> K.Value {
        guard let value = storage[key] else { fatalError("\(what) is not configured") }
        return value
    }
}
