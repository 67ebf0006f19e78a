import Fluent
import Foundation
import Logging
import SupersetKit

/// Environment management: the domain functions behind the API, the pages and the CLI.
///
/// Preconditions: the schema is migrated. Side effects: database writes (each change in one
/// transaction, so nothing is half-saved); Superset calls only in `test`.
enum EnvironmentService {
    static func list(on db: Database) async throws -> [(EnvironmentModel, InventorySyncModel?)] {
        let envs = try await EnvironmentModel.query(on: db).sort(\.$name).all()
        let syncs = try await InventorySyncModel.query(on: db).all()
        let byID = Dictionary(syncs.map { ($0.id!, $0) }, uniquingKeysWith: { a, _ in a })
        return envs.map { ($0, byID[$0.id!]) }
    }

    static func find(_ id: UUID, on db: Database) async throws -> EnvironmentModel {
        guard let env = try await EnvironmentModel.find(id, on: db) else { throw AppError.notFound(.environment, "\(id)") }
        return env
    }

    /// Finds by id or by name (the CLI and query strings use names).
    static func find(idOrName: String, on db: Database) async throws -> EnvironmentModel {
        if let id = UUID(uuidString: idOrName), let env = try await EnvironmentModel.find(id, on: db) { return env }
        guard let env = try await EnvironmentModel.query(on: db).filter(\.$name == idOrName).first() else {
            throw AppError.notFound(.environmentNamed, idOrName)
        }
        return env
    }

    static func sync(for id: UUID, on db: Database) async throws -> InventorySyncModel? {
        try await InventorySyncModel.find(id, on: db)
    }

    static func create(_ input: EnvironmentInput, on db: Database, box: SecretBox, now: Date, id: UUID) async throws -> EnvironmentModel {
        let valid = try input.validated(existing: nil)
        let env = EnvironmentModel()
        env.id = id
        env.createdAt = now
        try apply(valid, to: env, box: box, now: now)
        try await save(env, isNew: true, on: db)
        return env
    }

    static func update(_ id: UUID, _ input: EnvironmentInput, on db: Database, box: SecretBox, now: Date) async throws -> EnvironmentModel {
        let env = try await find(id, on: db)
        let valid = try input.validated(existing: env)
        try apply(valid, to: env, box: box, now: now)
        try await save(env, isNew: false, on: db)
        return env
    }

    static func delete(_ id: UUID, on db: Database) async throws {
        let env = try await find(id, on: db)
        try await db.transaction { tx in
            try await InventoryItemModel.query(on: tx).filter(\.$environmentID == id).delete()
            try await InventorySyncModel.query(on: tx).filter(\.$id == id).delete()
            // Its schedules could never run again (a re-added environment has a new id): they
            // are switched off, kept for the operator to see, edit or delete.
            try await ScheduleModel.query(on: tx).filter(\.$params, .contains(inverse: false, .anywhere), id.key)
                .set(\.$enabled, to: false).set(\.$nextRunAt, to: nil).update()
            try await env.delete(on: tx)
        }
    }

    private static func apply(_ v: ValidEnvironment, to env: EnvironmentModel, box: SecretBox, now: Date) throws {
        env.name = v.name
        env.url = v.url.absoluteString
        env.authProvider = v.provider.rawValue
        env.username = v.username
        if let password = v.password { env.passwordSealed = try box.seal(password) }
        env.verifyTLS = v.verifyTLS
        env.parallelRequests = v.parallelRequests
        env.stage = v.stage.rawValue
        env.isDefault = v.isDefault
        env.updatedAt = now
    }

    /// Saves in one transaction: the name must be free, and at most one environment is default.
    private static func save(_ env: EnvironmentModel, isNew: Bool, on db: Database) async throws {
        try await db.writeTransaction { tx in
            let clash = try await EnvironmentModel.query(on: tx).filter(\.$name == env.name).all()
            if clash.contains(where: { $0.id != env.id }) {
                throw AppError(.conflict, code: "name_taken", key: "environment_taken", ["name": env.name],
                               fields: [FieldError(field: "name", code: "taken", key: "environment_taken")])
            }
            if env.isDefault {
                try await EnvironmentModel.query(on: tx).filter(\.$id != env.id!).set(\.$isDefault, to: false).update()
            }
            if isNew { try await env.create(on: tx) } else { try await env.update(on: tx) }
        }
    }

    /// The client configuration for settings not saved yet (the unsaved "test connection").
    static func clientConfiguration(_ v: ValidEnvironment, timeout: Double) -> SupersetClientConfiguration {
        var config = SupersetClientConfiguration(
            baseURL: v.url, credentials: SupersetCredentials(username: v.username, password: v.password ?? "", provider: v.provider))
        config.timeout = timeout
        return config
    }

    /// The client configuration for a stored environment (decrypts its password).
    static func clientConfiguration(_ env: EnvironmentModel, box: SecretBox, timeout: Double) throws -> SupersetClientConfiguration {
        var config = SupersetClientConfiguration(
            baseURL: try SupersetURL.normalize(env.url),
            credentials: SupersetCredentials(
                username: env.username, password: try box.open(env.passwordSealed),
                provider: SupersetCredentials.Provider(rawValue: env.authProvider) ?? .db))
        config.timeout = timeout
        config.parallelRequests = env.parallelRequests
        return config
    }

    /// A client for a stored environment, its log lines tagged with the environment's name.
    static func client(
        for env: EnvironmentModel, box: SecretBox, timeout: Double, dependencies: FerryDependencies, logger: Logger
    ) throws -> SupersetClient {
        var log = logger
        log[metadataKey: "environment"] = .string(env.name)
        return dependencies.supersetClient(try clientConfiguration(env, box: box, timeout: timeout), env.verifyTLS, log)
    }

    /// Logs in, fetches a CSRF token and reads the version. Never throws for a Superset failure:
    /// it reports it as a structured reason.
    static func test(
        configuration: SupersetClientConfiguration, verifyTLS: Bool, dependencies: FerryDependencies, logger: Logger
    ) async -> ConnectionTestResult {
        var config = configuration
        config.retry = RetryPolicy(maxAttempts: 1)
        let client = dependencies.supersetClient(config, verifyTLS, logger)
        do {
            let probe = try await client.probe()
            return ConnectionTestResult(
                ok: true, version: probe.version, reason: nil,
                message: "Connected to Superset \(probe.version); login and CSRF work.", loginOK: true, csrfOK: true,
                latencyMs: probe.latencyMilliseconds)
        } catch let error as SupersetError {
            logger.info("connection test failed", metadata: ["reason": .string(error.code)])
            return ConnectionTestResult(
                ok: false, version: nil, reason: error.code, message: error.errorDescription ?? error.code,
                loginOK: false, csrfOK: false, latencyMs: nil)
        } catch {
            return ConnectionTestResult(
                ok: false, version: nil, reason: "unexpected", message: String(describing: error), loginOK: false, csrfOK: false,
                latencyMs: nil)
        }
    }
}
