import Fluent
import Foundation
import Vapor

/// `ferry env add|list|test`: the environments API from the shell. The password is read from
/// `--password-stdin` or the FERRY_ENV_PASSWORD variable, never from an argument (it would show
/// in the process list).
struct EnvCommand: AsyncCommandGroup {
    var help: String { "Manage Superset environments." }
    var commands: [String: any AnyAsyncCommand] {
        ["add": Add(), "list": List(), "test": Test()]
    }

    struct Add: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "name") var name: String
            @Option(name: "url", help: "Superset base URL") var url: String?
            @Option(name: "username", help: "Superset username") var username: String?
            @Option(name: "provider", help: "db (default) or ldap") var provider: String?
            @Option(name: "stage", help: "dev, stage, prod or other") var stage: String?
            @Option(name: "parallel-requests", help: "Requests Ferry sends this Superset at once, 1-16 (default 1)") var parallelRequests: Int?
            @Flag(name: "password-stdin", help: "Read the password from standard input") var passwordStdin: Bool
            @Flag(name: "insecure", help: "Do not verify TLS certificates") var insecure: Bool
            @Flag(name: "default", help: "Make this the default environment") var isDefault: Bool
        }
        var help: String { "Add an environment." }

        func run(using context: CommandContext, signature: Signature) async throws {
            var password = ProcessInfo.processInfo.environment["FERRY_ENV_PASSWORD"]
            if signature.passwordStdin { password = readLine(strippingNewline: true) }
            let input = EnvironmentInput(
                name: signature.name, url: signature.url, authProvider: signature.provider, username: signature.username, password: password,
                verifyTLS: !signature.insecure, stage: signature.stage, isDefault: signature.isDefault,
                parallelRequests: signature.parallelRequests)
            let app = context.application
            do {
                let env = try await EnvironmentService.create(input, on: app.db, box: app.secretBox, now: app.ferry.now(), id: app.ferry.uuid())
                context.console.print("Added environment '\(env.name)' (\(env.id!.uuidString.lowercased())) at \(env.url).")
            } catch let error as AppError {
                context.console.error("Not added: \(error.detail)")
                throw ExitCode(1)
            }
        }
    }

    struct List: AsyncCommand {
        struct Signature: CommandSignature {
            @Flag(name: "json", help: "Print JSON") var json: Bool
        }
        var help: String { "List environments." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let rows = try await EnvironmentService.list(on: context.application.db).map { EnvironmentDTO($0.0, sync: $0.1) }
            if signature.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                context.console.print(String(decoding: try encoder.encode(rows), as: UTF8.self))
                return
            }
            if rows.isEmpty { return context.console.print("No environments. Add one with: ferry env add NAME --url URL --username USER --password-stdin") }
            for r in rows {
                let synced = r.sync?.succeededAt.map { ISO8601DateFormatter().string(from: $0) } ?? "never"
                context.console.print("\(r.name)\t\(r.stage)\t\(r.url)\t\(r.username)\tsynced \(synced)\(r.isDefault ? "\tdefault" : "")")
            }
        }
    }

    struct Test: AsyncCommand {
        struct Signature: CommandSignature {
            @Argument(name: "name") var name: String
        }
        var help: String { "Test the connection to an environment." }

        func run(using context: CommandContext, signature: Signature) async throws {
            let app = context.application
            let env: EnvironmentModel
            do {
                env = try await EnvironmentService.find(idOrName: signature.name, on: app.db)
            } catch let error as AppError {
                context.console.error(error.detail)
                throw ExitCode(1)
            }
            let config = try EnvironmentService.clientConfiguration(env, box: app.secretBox, timeout: app.ferryConfiguration.interactiveTimeout)
            let result = await EnvironmentService.test(configuration: config, verifyTLS: env.verifyTLS, dependencies: app.ferry, logger: app.logger)
            if result.ok {
                context.console.print("OK: \(env.name) runs Superset \(result.version ?? "?"); login and CSRF work (\(result.latencyMs ?? 0) ms).")
            } else {
                context.console.error("FAILED (\(result.reason ?? "?")): \(result.message)")
                throw ExitCode(2)
            }
        }
    }
}

/// A command failure with an exit status.
struct ExitCode: Error, CustomStringConvertible {
    var code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { "exit \(code)" }
}
