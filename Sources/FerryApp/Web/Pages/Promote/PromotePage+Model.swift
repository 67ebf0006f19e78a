import Foundation

/// The promotion wizard's first step: pick the environments, the dashboards and the scope.
/// Submitting makes a plan (a dry run); the plan page follows it.
enum PromotePage {
    struct Model: Equatable {
        var environments: [String]
        var form: Form
        var errors: [String: String]
        var formError: String?

        struct Form: Equatable {
            var source = ""
            var target = ""
            var dashboards = ""
            var search = ""
            var scope = "dashboards"
            /// `src=dst` pairs, comma-separated.
            var schemas = ""
            /// Import as is into a Superset release Ferry doesn't know.
            var acceptUnknownVersion = false
        }
    }
}
