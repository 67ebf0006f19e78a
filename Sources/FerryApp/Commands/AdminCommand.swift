import Fluent
import Foundation
import Vapor

/// Makes the first administrator, from `ferry admin create` or `FERRY_ADMIN_PASSWORD`.
/// Ferry never has a default password.
enum AdminBootstrap {
    /// Creates `username` with the admin role when no user exists yet; does nothing otherwise.
    /// Returns whether a user was made.
    @discardableResult
    static func ensureFirstAdmin(username: String, password: String, app: Application) async throws -> Bool {
        guard try await AccountService.count(on: app.db) == 0 else { return false }
        try await createAdmin(username: username, password: password, actor: "system", detail: "first administrator", app: app)
        app.logger.notice("created the first administrator", metadata: ["username": .string(username)])
        return true
    }

    /// Makes an administrator and records it in the audit log as done by `actor`.
    static func createAdmin(username: String, password: String, actor: String, detail: String, app: Application) async throws {
        _ = try await AccountService.createUser(
            UserInput(username: username, password: password, roles: [BuiltInRoles.admin]), hasher: app.passwordHasher, now: app.ferry.now(),
            newID: app.ferry.uuid, on: app.db)
        try await AuditLog.append(AuditEntry(at: app.ferry.now(), actorID: nil, actor: actor, address: nil, action: "user.create", target: username,
                                             environment: nil, outcome: .success, detail: detail), id: app.ferry.uuid(), on: app.db)
    }
}

/// `ferry admin create --username NAME`: makes an administrator, reading the password from
/// standard input (one line), so it never appears in the shell history or the process list.
struct AdminCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "create")
        var action: String
        @Option(name: "username", help: "The new administrator's username (default: admin)")
        var username: String?
    }
    var help: String { "Make an administrator account; the password is read from standard input." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "create" else {
            context.console.error("Unknown action '\(signature.action)'. Use: ferry admin create --username NAME < password-file")
            throw ExitCode(64)
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            context.console.error("Give the password on standard input, e.g.: printf '%s\\n' \"$PASSWORD\" | ferry admin create --username admin")
            throw ExitCode(64)
        }
        let app = context.application
        let username = signature.username ?? "admin"
        do {
            try await AdminBootstrap.createAdmin(username: username, password: line, actor: "cli", detail: "ferry admin create", app: app)
        } catch let e as AppError {
            context.console.error("Not created: \(e.detail)")
            throw ExitCode(e.status == .conflict ? 1 : 64)
        }
        context.console.print("Administrator '\(username)' created. Sign in at /login.")
    }
}
