import Foundation

/// The git history's start: every environment the viewer may read with its dashboards counted
/// by drift (snapshot and drift check for `git:write`), one environment's dashboards (searched,
/// filtered by drift, paged; each opens its history), and the remote (push and pull for
/// `git:write` on every environment, its settings for `settings:admin`).
enum GitPage {
    struct Model: Equatable {
        /// The environments the viewer may read (`inventory:read`), by name.
        var environments: [EnvironmentRow] = []
        /// The environment whose dashboards are listed (nil: there is none to read).
        var selected: UUID?
        /// The list's filter: a `GitDriftStatus` raw value or "" (any), and text.
        var drift = ""
        var search = ""
        /// This page of the selected environment's matching dashboards.
        var dashboards: [GitDashboardDTO] = []
        /// How many match.
        var total = 0
        var page = 1
        /// The remote when one is set (never its secret).
        var remote: GitRemoteDTO?
        /// `git:write` on every environment: push and pull.
        var canPushPull = false
        /// `settings:admin`: the remote's settings.
        var canAdminRemote = false
        /// Why a snapshot, drift check, push or pull wasn't started.
        var actionError: String?

        struct EnvironmentRow: Equatable {
            var id: UUID
            var name: String
            var stage: String
            var inSync = 0
            var changed = 0
            var uncommitted = 0
            /// `git:write` on it: snapshot now, check drift.
            var canWrite = false
        }

        static let perPage = 50

        var pageCount: Int { max(1, (total + Self.perPage - 1) / Self.perPage) }
        var selectedEnvironment: EnvironmentRow? { environments.first { $0.id == selected } }
    }
}
