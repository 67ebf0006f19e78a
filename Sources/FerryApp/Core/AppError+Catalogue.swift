import Foundation
import Vapor

// Refusals written from the catalogue in English, the API's words. A page shows them in its
// reader's language (`Localizer.fieldText`, `problemText`), read back from the English the way a
// task's stored text is (`TaskText`).

extension FieldError {
    /// A field's refusal from the catalogue's `field.<key>`.
    init(field: String, code: String, key: String, _ values: [String: String] = [:]) {
        self.init(field: field, code: code, message: TaskText.text("field.\(key)", values))
    }
}

extension AppError {
    /// A refusal whose detail is the catalogue's `problem.<key>`.
    init(_ status: HTTPResponseStatus, code: String, key: String, _ values: [String: String] = [:], fields: [FieldError] = []) {
        self.init(status, code: code, detail: TaskText.text("problem.\(key)", values), fields: fields)
    }
}
