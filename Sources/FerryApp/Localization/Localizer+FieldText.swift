import Foundation

extension Localizer {
    /// A refused field's message (a `FieldError`'s, English from the catalogue's `field.`
    /// family) in this language (`taskText`); a message the catalogue didn't write (a params
    /// schema's, a cron parser's, Superset's) as it is.
    func fieldText(_ message: String) -> String { taskText(message, .field) }

    /// A refused field's message in this language: from the catalogue entry it was written
    /// from, else read back from its English (`fieldText(_:)`).
    func fieldText(_ error: FieldError) -> String { error.text.map(text) ?? fieldText(error.message) }

    /// A catalogue entry in this language, with the values it was written with (a refusal's
    /// cause inside it, `why`, read back from its English: it comes from elsewhere).
    func text(_ entry: CatalogueText) -> String {
        var values = entry.values
        if let why = values["why"] { values["why"] = causeText(why) }
        return t(entry.key, values)
    }

    /// Each refused field's messages in this language, by field, joined by "; " (what a form
    /// marks its fields with).
    func fieldMessages(_ error: AppError) -> [String: String] {
        var out: [String: String] = [:]
        for f in error.fields { out[f.field] = [out[f.field], fieldText(f)].compactMap { $0 }.joined(separator: "; ") }
        return out
    }

    /// A refusal as a page shows it: each field's message in this language ("field: message;
    /// …", as the API's detail reads in English), else its detail in this language when the
    /// catalogue's `problem.` family wrote it, else the detail as it is.
    func problemText(_ error: AppError) -> String {
        guard !error.fields.isEmpty else { return error.text.map(text) ?? taskText(error.detail, .problem) }
        return error.fields.map { "\($0.field): \(fieldText($0))" }.joined(separator: "; ")
    }
}
