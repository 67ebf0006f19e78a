import Fluent
import SQLKit

/// Creates `git_environments` and `git_dashboards` (what Ferry committed of each environment's
/// dashboards to its git history), and adds `promotion_plans.source_revision` (a deploy of a
/// revision is a promotion whose source is a commit).
/// Shipped: never edit.
struct M0011_CreateGitHistory: AsyncMigration {
    var name: String { "M0011_CreateGitHistory" }

    func prepare(on database: Database) async throws {
        try await database.schema("git_environments")
            .id()
            .field("environment_id", .uuid, .required)
            .field("dir", .string, .required)
            .unique(on: "environment_id", name: "uq_git_environments_environment")
            .unique(on: "dir", name: "uq_git_environments_dir")
            .create()
        try await database.schema("git_dashboards")
            .id()
            .field("environment_id", .uuid, .required)
            .field("dashboard_uuid", .string, .required)
            .field("title", .string, .required)
            .field("dir", .string, .required)
            .field("content_key", .string, .required)
            .field("changed_key", .string, .required)
            .field("members", .string, .required)
            .field("commit_sha", .string, .required)
            .field("committed_at", .datetime, .required)
            .field("drift", .string, .required)
            .field("checked_at", .datetime)
            .unique(on: "environment_id", "dashboard_uuid", name: "uq_git_dashboards_dashboard")
            .create()
        try await database.schema("promotion_plans").field("source_revision", .string).update()
    }

    func revert(on database: Database) async throws {
        try await database.schema("promotion_plans").deleteField("source_revision").update()
        try await database.schema("git_dashboards").delete()
        try await database.schema("git_environments").delete()
    }
}
