import Foundation

extension Localizer {
    /// A refused field's message (a `FieldError`'s, English from the catalogue's `field.`
    /// family) in this language (`taskText`); a message the catalogue didn't write (a params
    /// schema's, a cron parser's, Superset's) as it is.
    func fieldText(_ message: String) -> String { taskText(message, .field) }

    /// A refusal as a page shows it above a form: each field's message in this language
    /// ("field: message; …", as the API's detail reads in English), else the detail itself.
    func problemText(_ error: AppError) -> String {
        guard !error.fields.isEmpty else { return error.detail }
        return error.fields.map { "\($0.field): \(fieldText($0.message))" }.joined(separator: "; ")
    }
}
