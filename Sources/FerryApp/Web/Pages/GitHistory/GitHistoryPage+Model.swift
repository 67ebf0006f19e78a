import Foundation

/// One dashboard's history in one environment: its drift and folder, its revisions (newest
/// first, paged), the comparison of two of them, with Superset now or with another
/// environment, and the deploy of a revision (a promotion whose source is the commit).
enum GitHistoryPage {
    struct Model: Equatable {
        var environmentID: UUID
        var environment: String
        var dashboard: GitDashboardDTO
        /// This page's revisions, newest first.
        var revisions: [GitRevisionDTO] = []
        var page = 1
        /// Older revisions follow on the next page.
        var hasMore = false
        /// Why the history can't be read (git failed).
        var historyError: String?
        /// Other environments the viewer may read: "compare with".
        var others: [Target] = []
        /// `promote:plan` on this environment: the deploy form is offered.
        var canDeploy = false
        /// Environments the viewer may deploy into (`promote:plan`).
        var deployTargets: [Target] = []
        /// What was picked (kept when a deploy is refused).
        var deploy = DeployForm()
        var deployErrors: [String: String] = [:]
        var deployError: String?

        struct Target: Equatable {
            var id: UUID
            var name: String
        }

        struct DeployForm: Equatable {
            /// A sha ("" = the newest shown).
            var revision = ""
            /// The target environment's id ("" = not picked).
            var target = ""
        }

        static let perPage = 50

        /// The newest commit of the dashboard: its last commit, else HEAD.
        var lastCommit: String { dashboard.lastCommit ?? revisions.first?.sha ?? "HEAD" }
    }
}
