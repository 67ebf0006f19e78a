import Foundation

/// Two states of one dashboard compared (two revisions, a revision and Superset now, or two
/// environments): field by field side by side per file, then the unified diff. A comparison
/// that can't be made (never committed, unknown revision, Superset down) says why.
enum GitDiffPage {
    struct Model: Equatable {
        var environmentID: UUID
        var environment: String
        /// The dashboard's uuid (or, when it can't be found, what the request named).
        var dashboard: String
        var title: String
        var diff: GitDiffDTO?
        /// Why there is no comparison.
        var error: String?
    }
}
