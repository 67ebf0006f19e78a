import Foundation

/// One dashboard across every environment the viewer may read, by its uuid: where it exists
/// (title, owners, last change, git drift, latest check), its promotions, backups, git
/// revisions and health checks newest first, and the actions the viewer's grants allow.
///
/// Invariant: everything listed is of an environment the viewer may read (`inventory:read`;
/// promotions also `tasks:read` on both ends); every action is offered only where the viewer
/// holds its permission on that environment.
enum DashboardPage {
    struct Model: Equatable {
        var uuid: String
        var title: String
        var presences: [Presence]
        var promotions: [PromotionRow] = []
        var checks: [CheckRow] = []
        var backups: [BackupRow] = []
        var revisions: [RevisionRow] = []
        /// Why the git revisions could not be read, when they couldn't.
        var revisionsError: String?

        /// How many of each list the page shows (newest first).
        static let listLimit = 10

        struct Presence: Equatable {
            var environmentID: UUID
            var environment: String
            var stage: String
            var dashboardID: Int
            var title: String
            var owners: [String]
            var changedOn: Date?
            var supersetURL: String
            var drift: GitDriftStatus
            var latestCheck: HealthMatrixRow.Run?
            var canPromote = false
            var canBackUp = false
            var canRestore = false
            var canCheck = false
            /// Committed to git and the viewer may plan from it: a revision can be deployed.
            var canDeploy = false
        }

        struct PromotionRow: Equatable {
            var promotionID: UUID
            var taskID: UUID?
            var source: String
            var target: String
            var status: PromotionStatus
            var by: String
            var at: Date
        }

        struct CheckRow: Equatable {
            var id: UUID
            var environment: String
            var status: HealthStatus
            var checkedAt: Date
        }

        struct BackupRow: Equatable {
            var id: UUID
            var environment: String
            var createdAt: Date
            var full: Bool
            var dashboards: Int
            var taskID: UUID?
        }

        struct RevisionRow: Equatable {
            var environmentID: UUID
            var environment: String
            var sha: String
            var shortSha: String
            var summary: String
            var author: String
            var date: Date
            var taskID: UUID?
        }
    }
}
