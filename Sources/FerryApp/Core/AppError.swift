import Foundation
import SupersetKit
import Vapor

/// A failure Ferry reports to a person or an API client: status, a stable code (which keys the
/// translation `error.<code>`), what is wrong, and what to do.
///
/// Invariant: `detail` never contains a secret.
public struct AppError: Error, Sendable {
    public var status: HTTPResponseStatus
    public var code: String
    public var detail: String
    public var fields: [FieldError]
    /// Seconds after which trying again may succeed (429, 503): sent as `Retry-After`.
    public var retryAfter: Int?
    /// The catalogue entry `detail` was written from, when it was (a page shows it in its
    /// reader's language from this, not by reading the English back).
    var text: CatalogueText?

    public init(_ status: HTTPResponseStatus, code: String, detail: String, fields: [FieldError] = [], retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.fields = fields
        self.retryAfter = retryAfter
    }

    /// What a request named and Ferry doesn't have (`problem.not_found.<kind>`).
    enum Missing: String, Sendable, CaseIterable {
        case plan, promotion, mapping, schedule, backup, environment, token, role, user, task
        case environmentNamed = "environment_named"
    }

    static func notFound(_ kind: Missing, _ id: String) -> AppError {
        AppError(.notFound, code: "not_found", key: "not_found.\(kind.rawValue)", ["id": id])
    }

    public static func validation(_ fields: [FieldError]) -> AppError {
        AppError(.unprocessableEntity, code: "validation",
                 detail: fields.map { "\($0.field): \($0.message)" }.joined(separator: "; "), fields: fields)
    }

    /// Maps a Superset failure met while serving a request: the peer failed, so 502/504.
    public static func superset(_ error: SupersetError, environment: String) -> AppError {
        let status: HTTPResponseStatus = error.code == "timeout" ? .gatewayTimeout : .badGateway
        return AppError(status, code: "superset_\(error.code)", key: "superset", ["environment": environment, "why": error.errorDescription ?? error.code])
    }
}

/// One invalid input field.
public struct FieldError: Content, Equatable, Sendable {
    public var field: String
    public var code: String
    public var message: String
    /// The catalogue entry `message` was written from, when it was; never sent (the API's
    /// words are `message`).
    var text: CatalogueText?

    private enum CodingKeys: String, CodingKey { case field, code, message }

    public init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }

    /// Equal when they say the same: the catalogue entry is how, not what.
    public static func == (a: FieldError, b: FieldError) -> Bool { a.field == b.field && a.code == b.code && a.message == b.message }
}

/// RFC 9457 problem details, Ferry's error body for every API failure.
struct ProblemDetails: Content {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var code: String
    var errors: [FieldError]?
    var requestId: String?
}
