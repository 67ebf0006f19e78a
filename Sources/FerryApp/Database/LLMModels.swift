import Fluent
import Foundation

/// An OpenAI-compatible model dashboard checks may ask for a review. Row of `llm_providers`.
///
/// Invariant: `apiKeySealed` is the provider's API key sealed by `SecretBox`, never plaintext,
/// and is never returned by the API or shown on a page; `name` is unique; `baseURL` is an
/// http(s) address with a host and no trailing slash.
final class LLMProviderModel: Model, @unchecked Sendable {
    static let schema = "llm_providers"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    /// The API's base, `/v1` included when the provider needs it: Ferry posts to
    /// `<baseURL>/chat/completions`.
    @Field(key: "base_url") var baseURL: String
    @Field(key: "model") var model: String
    @Field(key: "api_key_sealed") var apiKeySealed: String
    /// Paused providers are never called.
    @Field(key: "active") var active: Bool
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    init() {}
}
