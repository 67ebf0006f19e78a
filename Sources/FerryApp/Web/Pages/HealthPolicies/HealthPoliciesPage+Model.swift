import Foundation

/// The health policies of the environments the viewer may read: each with its window, alert,
/// channels and state, and, for `health:run`, edit, run now and delete; below, the form that
/// adds one (for those who may run checks somewhere).
enum HealthPoliciesPage {
    struct Model: Equatable {
        var rows: [Row] = []
        /// The add form, for the environment picked (`HealthPolicyForm`).
        var editor = HealthPolicyForm.State()
        var flash: String?
        /// Why a "run now" wasn't started.
        var error: String?

        struct Row: Equatable {
            var policy: HealthPolicyDTO
            /// The names of its channels, by name.
            var channels: [String]
            /// The channel owners are mailed through, when it mails them.
            var ownerChannel: String?
            /// `health:run` on its environment: edit, run now and delete are offered.
            var canRun: Bool
        }

        /// The viewer may run checks on some environment, so may add a policy.
        var canAdd: Bool { !editor.options.environments.isEmpty }
    }
}
