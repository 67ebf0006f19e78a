import Fluent
import Foundation

/// An LLM provider as the API and the settings page write it. `apiKey` is write-only: required
/// when making a provider, and absent (or empty) on an update keeps the stored one.
public struct LLMProviderInput: Codable, Sendable, Equatable {
    public var name: String
    /// The OpenAI-compatible API's base, `/v1` included when the provider needs it
    /// (`https://llm.example.com/v1`): Ferry posts to `<baseURL>/chat/completions`.
    public var baseURL: String
    public var model: String
    public var apiKey: String?
    public var active: Bool?

    public init(name: String, baseURL: String, model: String, apiKey: String? = nil, active: Bool? = nil) {
        self.name = name
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.active = active
    }
}

/// An LLM provider as the API shows it: never its key, only whether one is stored.
public struct LLMProviderDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var baseURL: String
    public var model: String
    public var active: Bool
    public var hasKey: Bool
    public var createdAt: Date
    public var updatedAt: Date
}

/// A provider with its key opened, ready to call. Lives only for the task that calls it;
/// never encoded, logged or stored (`description` leaves the key out).
struct LLMEndpoint: Sendable, CustomStringConvertible {
    var id: UUID
    var name: String
    var baseURL: String
    var model: String
    var apiKey: String

    var description: String { "LLM provider '\(name)' (\(model) at \(baseURL))" }
}

/// LLM providers: validation, storage with the key sealed, their API form, and deletes
/// refused while a policy asks the provider for reviews.
///
/// Invariants: a stored provider has a name (unique, 1-100 characters), an http(s) base URL
/// with a host, a model and a sealed key; the key is never returned and never in an error.
enum LLMProviderService {
    static let maxKeyLength = 4000

    static func dto(_ m: LLMProviderModel) -> LLMProviderDTO {
        LLMProviderDTO(id: m.id!, name: m.name, baseURL: m.baseURL, model: m.model, active: m.active, hasKey: !m.apiKeySealed.isEmpty,
                       createdAt: m.createdAt, updatedAt: m.updatedAt)
    }

    static func list(on db: any Database) async throws -> [LLMProviderModel] {
        try await LLMProviderModel.query(on: db).sort(\.$name).all()
    }

    static func find(_ id: UUID, on db: any Database) async throws -> LLMProviderModel {
        guard let m = try await LLMProviderModel.find(id, on: db) else {
            throw AppError(.notFound, code: "not_found", key: "llm_not_found", ["id": id.key])
        }
        return m
    }

    /// `input` checked and normalised (names and model trimmed, the base URL without its
    /// trailing slash, the key when one is given). `existing`: the stored provider, whose key
    /// is kept when none is given. Throws a 422 naming every wrong field.
    static func validate(_ input: LLMProviderInput, existing: LLMProviderModel?) throws -> (name: String, baseURL: String, model: String, key: String?) {
        var errors: [FieldError] = []
        func fail(_ field: String, _ code: String, _ key: String, _ values: [String: String] = [:]) { errors.append(FieldError(field: field, code: code, key: key, values)) }
        let name = input.name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 100 || name.rangeOfCharacter(from: .controlCharacters) != nil || name.rangeOfCharacter(from: .newlines) != nil {
            fail("name", "invalid", "llm_name")
        }
        var base = input.baseURL.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        if !isHTTPAddress(base) || base.rangeOfCharacter(from: .whitespacesAndNewlines) != nil || base.rangeOfCharacter(from: .controlCharacters) != nil
            || base.contains("?") || base.contains("#") {
            fail("baseURL", "invalid", "llm_base_url")
        }
        let model = input.model.trimmingCharacters(in: .whitespaces)
        if model.isEmpty || model.count > 200 || model.rangeOfCharacter(from: .whitespacesAndNewlines) != nil || model.rangeOfCharacter(from: .controlCharacters) != nil {
            fail("model", "invalid", "llm_model")
        }
        var key: String?
        if let given = input.apiKey?.trimmingCharacters(in: .whitespaces), !given.isEmpty {
            // It goes into an Authorization header: one line of visible characters.
            if given.count > maxKeyLength || given.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0.value > 0x7E }) {
                fail("apiKey", "invalid", "llm_key_invalid", ["max": "\(maxKeyLength)"])
            } else {
                key = given
            }
        } else if existing == nil || existing?.apiKeySealed.isEmpty == true {
            fail("apiKey", "required", "llm_key_required")
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        return (name, base, model, key)
    }

    /// Saves provider `id` (nil: a new one, `newID`), its key sealed with `box`.
    static func save(_ input: LLMProviderInput, id: UUID?, box: SecretBox, now: Date, newID: UUID, on db: any Database) async throws -> LLMProviderModel {
        let existing = try await id.asyncMap { try await find($0, on: db) }
        let v = try validate(input, existing: existing)
        if let clash = try await LLMProviderModel.query(on: db).filter(\.$name == v.name).first(), clash.id != existing?.id {
            throw AppError(.conflict, code: "name_taken", key: "llm_taken", ["name": v.name],
                           fields: [FieldError(field: "name", code: "taken", key: "taken")])
        }
        let m = existing ?? LLMProviderModel()
        if existing == nil {
            m.id = newID
            m.createdAt = now
        }
        m.name = v.name
        m.baseURL = v.baseURL
        m.model = v.model
        m.active = input.active ?? existing?.active ?? true
        if let key = v.key { m.apiKeySealed = try box.seal(key) }
        m.updatedAt = now
        try await m.save(on: db)
        return m
    }

    /// The policies that ask provider `id` for reviews, by name.
    static func policies(using id: UUID, on db: any Database) async throws -> [HealthPolicyModel] {
        try await HealthPolicyModel.query(on: db).filter(\.$llmProviderID == id).sort(\.$name).all()
    }

    /// Deletes a provider no policy uses; while some do, a 409 naming them (and nothing changes).
    static func delete(_ m: LLMProviderModel, on db: any Database) async throws {
        try await db.writeTransaction { tx in
            let users = try await policies(using: m.id!, on: tx)
            if !users.isEmpty {
                throw AppError(.conflict, code: "in_use", detail: inUseDetail(users.map(\.name)))
            }
            try await m.delete(on: tx)
        }
    }

    /// "Policies 'a', 'b' ask this provider…": why a delete was refused.
    static func inUseDetail(_ names: [String]) -> String {
        let listed = names.prefix(10).map { "'\($0)'" }.joined(separator: ", ") + (names.count > 10 ? " and \(names.count - 10) more" : "")
        return "Health \(names.count == 1 ? "policy" : "policies") \(listed) \(names.count == 1 ? "asks" : "ask") this provider for LLM reviews; "
            + "pick another provider (or none) in \(names.count == 1 ? "it" : "them") first."
    }

    /// The provider `id` with its key opened, for a check that asks it for reviews.
    static func endpoint(_ m: LLMProviderModel, box: SecretBox) throws -> LLMEndpoint {
        LLMEndpoint(id: m.id!, name: m.name, baseURL: m.baseURL, model: m.model, apiKey: try box.open(m.apiKeySealed))
    }
}
