import Fluent
import Foundation
import Vapor

extension LLMProviderDTO: Content {}

/// `/api/llm/providers`: the OpenAI-compatible models dashboard checks may ask for a review
/// (`settings:admin`). API keys are write-only: never returned, kept when an update leaves
/// them out; a provider a policy uses can't be deleted (409 naming the policies).
enum LLMProvidersAPI {
    static func register(_ app: Application) {
        app.get(.api(.llmProviders), use: list)
        app.post(.api(.llmProviders), use: create)
        app.get(.api(.llmProvider(.key)), use: one)
        app.put(.api(.llmProvider(.key)), use: update)
        app.delete(.api(.llmProvider(.key)), use: delete)
    }

    struct ProvidersResponse: Content { var items: [LLMProviderDTO] }

    @Sendable static func list(req: Request) async throws -> ProvidersResponse {
        ProvidersResponse(items: try await LLMProviderService.list(on: req.db).map(LLMProviderService.dto))
    }

    @Sendable static func one(req: Request) async throws -> LLMProviderDTO {
        LLMProviderService.dto(try await LLMProviderService.find(try req.idParameter(), on: req.db))
    }

    @Sendable static func create(req: Request) async throws -> Response {
        try await save(req, id: nil).encodeResponse(status: .created, for: req)
    }

    @Sendable static func update(req: Request) async throws -> LLMProviderDTO {
        try await save(req, id: try req.idParameter())
    }

    private static func save(_ req: Request, id: UUID?) async throws -> LLMProviderDTO {
        let input = try req.content.decode(LLMProviderInput.self)
        return LLMProviderService.dto(try await store(req, input, id: id))
    }

    /// Saves provider `id` (nil: a new one), as the API and the settings page do.
    static func store(_ req: Request, _ input: LLMProviderInput, id: UUID?) async throws -> LLMProviderModel {
        let app = req.application
        return try await LLMProviderService.save(input, id: id, box: app.secretBox, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
    }

    @Sendable static func delete(req: Request) async throws -> HTTPStatus {
        try await LLMProviderService.delete(try await LLMProviderService.find(try req.idParameter(), on: req.db), on: req.db)
        return .noContent
    }
}
