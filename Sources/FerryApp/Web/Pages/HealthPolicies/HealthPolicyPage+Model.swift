import Foundation

/// One health policy's form: its values (or what was sent, with what was wrong), saved with
/// `health:run` on its environment; read-only for those who may only read it.
enum HealthPolicyPage {
    struct Model: Equatable {
        var id: UUID
        /// The stored policy's name (the page's title).
        var name: String
        var editor: HealthPolicyForm.State
        /// `health:run` on the stored policy's environment.
        var canSave: Bool
    }
}
