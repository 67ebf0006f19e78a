import Foundation
import SupersetKit

/// A revision as the API and pages show it.
struct GitRevisionDTO: Codable, Sendable, Equatable {
    var sha: String
    var shortSha: String
    var author: String
    var date: Date
    var summary: String
    /// The Ferry task that made it; nil for a commit pulled from the remote.
    var taskId: UUID?

    init(_ r: GitRevision) {
        sha = r.sha
        shortSha = String(r.sha.prefix(12))
        author = r.author
        date = r.date
        summary = r.summary
        taskId = r.taskID.flatMap { UUID(uuidString: $0.split(separator: ",").first.map(String.init) ?? "") }
    }

    init(sha: String, author: String, date: Date, summary: String, taskId: UUID?) {
        self.sha = sha
        self.shortSha = String(sha.prefix(12))
        self.author = author
        self.date = date
        self.summary = summary
        self.taskId = taskId
    }
}

/// A dashboard of an environment with its place in the git history.
struct GitDashboardDTO: Codable, Sendable, Equatable {
    var environmentId: UUID
    var environment: String
    var uuid: String
    var title: String
    /// Its folder in the repository.
    var path: String?
    /// `GitDriftStatus`.
    var drift: String
    var lastCommit: String?
    var committedAt: Date?
    var checkedAt: Date?

    init(_ row: GitDashboardModel, environment: String) {
        environmentId = row.environmentID
        self.environment = environment
        uuid = row.dashboardUUID
        title = row.title
        path = row.dir
        drift = row.drift
        lastCommit = row.commitSHA.isEmpty ? nil : row.commitSHA
        committedAt = row.commitSHA.isEmpty ? nil : row.committedAt
        checkedAt = row.checkedAt
    }

    init(environmentId: UUID, environment: String, uuid: String, title: String, path: String?, drift: String, lastCommit: String?,
         committedAt: Date?, checkedAt: Date?) {
        self.environmentId = environmentId
        self.environment = environment
        self.uuid = uuid
        self.title = title
        self.path = path
        self.drift = drift
        self.lastCommit = lastCommit
        self.committedAt = committedAt
        self.checkedAt = checkedAt
    }
}

/// A dashboard's history: who changed it, when, and in which task.
struct GitHistoryDTO: Codable, Sendable, Equatable {
    var dashboard: GitDashboardDTO
    var revisions: [GitRevisionDTO]
    var page: Int
    var perPage: Int
}

/// One side of a comparison, for people: "dev @ 1a2b3c4d5e6f", "prod (live)".
struct GitSideDTO: Codable, Sendable, Equatable {
    var environmentId: UUID
    var environment: String
    /// A full sha, or nil for the live environment.
    var revision: String?
    var label: String
}

/// Two states of one dashboard compared: field by field, and as a unified diff.
struct GitDiffDTO: Codable, Sendable, Equatable {
    var dashboard: String
    var title: String
    var from: GitSideDTO
    var to: GitSideDTO
    var identical: Bool
    var files: [GitFileDiff]
    var unified: String
}

/// The remote as the API shows it: never its secret, only whether one is stored.
struct GitRemoteDTO: Codable, Sendable, Equatable {
    var url: String
    var auth: GitRemoteAuth
    var username: String
    var branch: String
    var pushAfterCommit: Bool
    var hasSecret: Bool

    init(_ s: GitRemoteSettings) {
        url = s.url
        auth = s.auth
        username = s.username
        branch = s.branch
        pushAfterCommit = s.pushAfterCommit
        hasSecret = s.secretSealed != nil
    }
}
