import Fluent
import Vapor

/// `ferry migrate`: applies pending schema migrations (no prompt; they are additive and numbered).
struct FerryMigrateCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Apply pending schema migrations to the store." }

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.application.autoMigrate()
        context.console.print("Store is up to date.")
    }
}
