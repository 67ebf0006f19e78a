import Foundation

/// The LLM providers dashboard checks may ask for a review (`settings:admin`): each with its
/// base URL, model and state (never its key); below, the form that adds one.
enum LLMProvidersPage {
    struct Model: Equatable {
        var providers: [LLMProviderDTO] = []
        /// The add form (what was sent, with what was wrong, when a save failed).
        var editor = LLMProviderForm.State()
        var flash: String?
        /// Why a delete was refused (policies use the provider).
        var error: String?
    }
}
