import Foundation

/// The git remote's settings: address, how Ferry signs in (none, token, SSH key), user, the
/// secret (never shown; left empty it is kept), branch, and whether every commit is pushed.
/// "Remove remote" forgets all of it; the local history stays.
enum GitRemotePage {
    struct Model: Equatable {
        /// As stored, or as typed when a save was refused (never the secret).
        var form = Form()
        /// A secret is stored.
        var hasSecret = false
        /// A remote is set (it can be removed).
        var configured = false
        var errors: [String: String] = [:]
        var error: String?
        var flash: String?

        struct Form: Equatable {
            var url = ""
            /// A `GitRemoteAuth` raw value.
            var auth = GitRemoteAuth.none.rawValue
            var username = ""
            var branch = "main"
            var pushAfterCommit = false
        }
    }
}

extension GitRemotePage.Model.Form {
    init(_ r: GitRemoteDTO) {
        self.init(url: r.url, auth: r.auth.rawValue, username: r.username, branch: r.branch, pushAfterCommit: r.pushAfterCommit)
    }
}
