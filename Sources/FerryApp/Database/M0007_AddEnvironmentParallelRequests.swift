import Fluent

/// Adds `environments.parallel_requests`: how many requests Ferry may send that Superset at once
/// in the parallel phases of a promotion (export batches, chart checks, filter writes). Existing
/// environments get 1, the safe value for a single gunicorn worker. Shipped: never edit.
struct M0007_AddEnvironmentParallelRequests: AsyncMigration {
    var name: String { "M0007_AddEnvironmentParallelRequests" }

    func prepare(on database: Database) async throws {
        try await database.schema("environments")
            .field("parallel_requests", .int, .required, .sql(.default(1)))
            .update()
    }

    func revert(on database: Database) async throws {
        try await database.schema("environments").deleteField("parallel_requests").update()
    }
}
