import Fluent

/// Adds what a plan knows of the Superset releases it crosses (issue 18):
/// - `promotion_plans.source_version`, `target_version`: the releases as the plan read them
///   ("6.1.0"; "unknown" when a backup or revision doesn't say); plans made before this have none;
/// - `promotion_plans.accept_unknown_version`: the operator asked to import into a release Ferry
///   doesn't know (older than 4.1, newer than the newest it knows) as is, without translation.
/// Shipped: never edit.
struct M0015_AddPlanVersions: AsyncMigration {
    var name: String { "M0015_AddPlanVersions" }

    func prepare(on database: Database) async throws {
        try await database.schema("promotion_plans").field("source_version", .string).update()
        try await database.schema("promotion_plans").field("target_version", .string).update()
        try await database.schema("promotion_plans").field("accept_unknown_version", .bool).update()
    }

    func revert(on database: Database) async throws {
        try await database.schema("promotion_plans").deleteField("accept_unknown_version").update()
        try await database.schema("promotion_plans").deleteField("target_version").update()
        try await database.schema("promotion_plans").deleteField("source_version").update()
    }
}
