import Foundation
import Vapor

// Refusals written from the catalogue in English, the API's words. A page shows them in its
// reader's language (`Localizer.fieldText`, `problemText`) from the entry they keep; a refusal
// stored as text (a task's cause) is read back from the English (`TaskText`).

/// A catalogue entry and the values it was written with.
struct CatalogueText: Sendable, Equatable {
    var key: String
    var values: [String: String]
}

extension FieldError {
    /// A field's refusal from the catalogue's `field.<key>`.
    init(field: String, code: String, key: String, _ values: [String: String] = [:]) {
        self.init(field: field, code: code, message: TaskText.text("field.\(key)", values))
        text = CatalogueText(key: "field.\(key)", values: values)
    }
}

extension AppError {
    /// A refusal whose detail is the catalogue's `problem.<key>`.
    init(_ status: HTTPResponseStatus, code: String, key: String, _ values: [String: String] = [:], fields: [FieldError] = [], retryAfter: Int? = nil) {
        self.init(status, code: code, detail: TaskText.text("problem.\(key)", values), fields: fields, retryAfter: retryAfter)
        text = CatalogueText(key: "problem.\(key)", values: values)
    }
}
