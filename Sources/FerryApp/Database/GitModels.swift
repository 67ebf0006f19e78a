import Fluent
import Foundation

/// Where one environment's files live in the git repository. Row of `git_environments`.
///
/// Invariant: the folder is chosen once, from the environment's name at its first commit, and
/// never changes (a rename keeps the history in one place; `environment.yaml` there says the
/// current name).
final class GitEnvironmentModel: Model, @unchecked Sendable {
    static let schema = "git_environments"
    @ID(key: .id) var id: UUID?
    @Field(key: "environment_id") var environmentID: UUID
    @Field(key: "dir") var dir: String
    init() {}
}

/// What Ferry last committed of one dashboard, and whether Superset has changed it since.
/// Row of `git_dashboards`.
///
/// Invariant: `commitSHA` is a commit on `main` whose tree holds `dir/dashboard.yaml` with this
/// uuid; `changedKey` is the fingerprint of the `changed_on` of the dashboard and every member
/// (`members`) when that state was read, which a drift check compares with Superset's now.
final class GitDashboardModel: Model, @unchecked Sendable {
    static let schema = "git_dashboards"
    @ID(key: .id) var id: UUID?
    @Field(key: "environment_id") var environmentID: UUID
    @Field(key: "dashboard_uuid") var dashboardUUID: String
    @Field(key: "title") var title: String
    /// The dashboard's folder, from the repository's root (`dev/dashboards/sales-overview`).
    @Field(key: "dir") var dir: String
    /// SHA-256 over the stored files of the dashboard and its members: equal means the files
    /// need no rewrite.
    @Field(key: "content_key") var contentKey: String
    @Field(key: "changed_key") var changedKey: String
    /// JSON list of the uuids of its charts and datasets.
    @Field(key: "members") var members: String
    @Field(key: "commit_sha") var commitSHA: String
    @Field(key: "committed_at") var committedAt: Date
    /// `GitDriftStatus`.
    @Field(key: "drift") var drift: String
    @OptionalField(key: "checked_at") var checkedAt: Date?
    init() {}
}
