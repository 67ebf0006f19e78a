import Fluent

/// Creates `llm_providers` (OpenAI-compatible models that review dashboard checks, their API
/// keys sealed) and adds `health_policies.llm_provider_id` (the provider a policy's checks ask
/// for a review; null: none). Existing policies get none. Shipped: never edit.
struct M0013_CreateLLMProviders: AsyncMigration {
    var name: String { "M0013_CreateLLMProviders" }

    func prepare(on database: Database) async throws {
        try await database.schema("llm_providers")
            .id()
            .field("name", .string, .required)
            .field("base_url", .string, .required)
            .field("model", .string, .required)
            .field("api_key_sealed", .string, .required)
            .field("active", .bool, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "name", name: "uq_llm_providers_name")
            .create()
        try await database.schema("health_policies").field("llm_provider_id", .uuid).update()
    }

    func revert(on database: Database) async throws {
        try await database.schema("health_policies").deleteField("llm_provider_id").update()
        try await database.schema("llm_providers").delete()
    }
}
