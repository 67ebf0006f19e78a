import Foundation

extension FieldError {
    /// A field error written from the catalogue's `field.<key>` in English: the API's words.
    /// A page shows it in its reader's language (`Localizer.fieldText`), read back from the
    /// English the way a task's stored text is (`TaskText`).
    init(field: String, code: String, key: String, _ values: [String: String] = [:]) {
        self.init(field: field, code: code, message: TaskText.text("field.\(key)", values))
    }
}
