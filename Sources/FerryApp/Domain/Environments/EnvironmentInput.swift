import Foundation
import SupersetKit
import Vapor

/// The stage an environment plays in the promotion path.
public enum Stage: String, Codable, CaseIterable, Sendable {
    case dev, stage, prod, other
}

/// What a client sends to create or change an environment. Every field is optional so that the
/// same type serves create (where validation requires them) and partial update (where a missing
/// field, the password included, keeps its stored value).
public struct EnvironmentInput: Content, Sendable {
    public var name: String?
    public var url: String?
    public var authProvider: String?
    public var username: String?
    /// Write-only: accepted, stored encrypted, never returned.
    public var password: String?
    public var verifyTLS: Bool?
    public var stage: String?
    public var isDefault: Bool?
    /// Requests Ferry may send this Superset at once (1...16, default 1).
    public var parallelRequests: Int?

    public init(
        name: String? = nil, url: String? = nil, authProvider: String? = nil, username: String? = nil,
        password: String? = nil, verifyTLS: Bool? = nil, stage: String? = nil, isDefault: Bool? = nil,
        parallelRequests: Int? = nil
    ) {
        self.name = name
        self.url = url
        self.authProvider = authProvider
        self.username = username
        self.password = password
        self.verifyTLS = verifyTLS
        self.stage = stage
        self.isDefault = isDefault
        self.parallelRequests = parallelRequests
    }
}

/// A validated environment definition.
struct ValidEnvironment: Sendable {
    var name: String
    var url: URL
    var provider: SupersetCredentials.Provider
    var username: String
    /// nil on update: keep the stored password.
    var password: String?
    var verifyTLS: Bool
    var stage: Stage
    var isDefault: Bool
    var parallelRequests: Int
}

extension EnvironmentInput {
    /// Validates against an existing record (update) or from scratch (create). Collects every
    /// problem at once, so a form can show them all.
    /// Whether two URLs reach the same server: scheme, host (case-insensitive) and port (the
    /// scheme's default when none is written).
    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func origin(_ u: URL) -> (String, String, Int) {
            let scheme = (u.scheme ?? "").lowercased()
            return (scheme, (u.host ?? "").lowercased(), u.port ?? (scheme == "https" ? 443 : 80))
        }
        return origin(a) == origin(b)
    }

    func validated(existing: EnvironmentModel?) throws -> ValidEnvironment {
        var errors: [FieldError] = []
        let name = (self.name ?? existing?.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty {
            errors.append(FieldError(field: "name", code: "required", key: "name_required"))
        } else if name.count > 64 {
            errors.append(FieldError(field: "name", code: "too_long", key: "at_most_chars", ["max": "64"]))
        } else if !name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || " -_.".unicodeScalars.contains($0) }) {
            errors.append(FieldError(field: "name", code: "invalid", key: "environment_name_chars"))
        }
        var url: URL? = nil
        let rawURL = self.url ?? existing?.url ?? ""
        do {
            url = try SupersetURL.normalize(rawURL)
        } catch let error as SupersetError {
            if case .invalidURL(let m) = error {
                errors.append(FieldError(field: "url", code: rawURL.isEmpty ? "required" : "invalid", message: m))
            }
        }
        let providerText = self.authProvider ?? existing?.authProvider ?? "db"
        let provider = SupersetCredentials.Provider(rawValue: providerText)
        if provider == nil {
            errors.append(FieldError(field: "authProvider", code: "invalid", key: "auth_provider"))
        }
        let username = (self.username ?? existing?.username ?? "").trimmingCharacters(in: .whitespaces)
        if username.isEmpty {
            errors.append(FieldError(field: "username", code: "required", key: "superset_username_required"))
        }
        var password = self.password
        if password?.isEmpty == true, existing != nil { password = nil }  // blank on edit: keep
        if existing == nil, (password ?? "").isEmpty {
            errors.append(FieldError(field: "password", code: "required", key: "superset_password_required"))
        }
        // Credentials follow the URL: the stored password is never sent to another server.
        if let existing, password == nil, let url, let before = try? SupersetURL.normalize(existing.url), !Self.sameOrigin(url, before) {
            errors.append(FieldError(field: "password", code: "required_for_new_url", key: "password_for_new_url"))
        }
        if (password ?? "").count > 1024 { errors.append(FieldError(field: "password", code: "too_long", key: "at_most_chars", ["max": "1024"])) }
        if username.count > 255 { errors.append(FieldError(field: "username", code: "too_long", key: "at_most_chars", ["max": "255"])) }
        let stageText = self.stage ?? existing?.stage ?? "other"
        let stage = Stage(rawValue: stageText)
        if stage == nil {
            errors.append(FieldError(field: "stage", code: "invalid", key: "stage"))
        }
        let parallelRequests = self.parallelRequests ?? existing?.parallelRequests ?? 1
        if !(1...16).contains(parallelRequests) {
            errors.append(FieldError(field: "parallelRequests", code: "out_of_range", key: "parallel_requests"))
        }
        guard errors.isEmpty, let url, let provider, let stage else { throw AppError.validation(errors) }
        return ValidEnvironment(
            name: name, url: url, provider: provider, username: username, password: password,
            verifyTLS: verifyTLS ?? existing?.verifyTLS ?? true, stage: stage, isDefault: isDefault ?? existing?.isDefault ?? false,
            parallelRequests: parallelRequests)
    }
}
