import Foundation

/// What a task stores as English text, in the catalogue: its steps (`step.<key>`), the texts
/// of an input request (`input.<key>`) and a failure's cause and next action
/// (`failure.<key>`, `failure.<key>.next`). Plugins name a text by its key and values; the task
/// keeps the English text (what the API, the CLI and the logs show, as before). A page or a
/// live stream shows a stored text in its reader's language by finding the English template
/// it was written from: texts stored before they were in the catalogue read the same way, and
/// the store keeps one text per field.
///
/// Invariant: every template's English text is what `english(_:_:)`/`text(_:_:)` write, so each
/// written text matches its template (a test renders every template and reads it back).
enum TaskStepText {
    static let prefix = "step."
    /// The catalogue's families of stored task texts.
    static let families = [prefix, "input.", "failure."]
    /// The longest text read back: longer than any Ferry writes (the longest is a git failure
    /// naming a 2,000-character remote URL and part of git's answer), so matching stays cheap
    /// whatever the store holds.
    static let maxLength = 4_000

    /// The English text of step `key` with its values (what the task stores).
    static func english(_ key: String, _ values: [String: String] = [:]) -> String {
        text(prefix + key, values)
    }

    /// The English text of the catalogue's `key` (a whole key of one of the `families`).
    static func text(_ key: String, _ values: [String: String] = [:]) -> String {
        Localizer(language: "en").t(key, values)
    }

    /// An English template split into literal text and placeholders, in order.
    struct Template: Sendable {
        enum Part: Sendable, Equatable { case text(String), value(String) }
        let key: String
        let parts: [Part]
        /// How much literal text it has: the more, the more specific (tried first).
        var literalCount: Int { parts.reduce(0) { n, p in if case .text(let s) = p { return n + s.count } else { return n } } }

        init(key: String, english: String) {
            self.key = key
            var parts: [Part] = []
            var rest = Substring(english)
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                if open > rest.startIndex { parts.append(.text(String(rest[..<open]))) }
                parts.append(.value(String(rest[rest.index(after: open)..<close])))
                rest = rest[rest.index(after: close)...]
            }
            if !rest.isEmpty { parts.append(.text(String(rest))) }
            self.parts = parts
        }

        /// The values of `text` when it was written from this template.
        func match(_ text: String) -> [String: String]? {
            var values: [String: String] = [:]
            return Self.match(parts[...], Substring(text), &values) ? values : nil
        }

        private static func match(_ parts: ArraySlice<Part>, _ text: Substring, _ values: inout [String: String]) -> Bool {
            guard let first = parts.first else { return text.isEmpty }
            switch first {
            case .text(let literal):
                guard text.hasPrefix(literal) else { return false }
                return match(parts.dropFirst(), text.dropFirst(literal.count), &values)
            case .value(let name):
                guard !text.isEmpty else { return false }  // a value is at least one character
                let rest = parts.dropFirst()
                guard case .text(let next)? = rest.first else {
                    // The last part (or two values side by side, which templates avoid): all the rest.
                    guard rest.isEmpty, !text.isEmpty else { return false }
                    values[name] = String(text)
                    return true
                }
                // Each place the next text starts (after at least one character) is tried.
                var from = text.index(after: text.startIndex)
                while let found = text[from...].range(of: next) {
                    var tried = values
                    tried[name] = String(text[..<found.lowerBound])
                    if match(rest, text[found.lowerBound...], &tried) {
                        values = tried
                        return true
                    }
                    from = text.index(after: found.lowerBound)
                }
                return false
            }
        }
    }

    /// Every template of the `families` in the English catalogue, the most specific first.
    static let templates: [Template] = {
        let english = Catalogue.shared.tables["en"] ?? [:]
        return english.filter { entry in families.contains { entry.key.hasPrefix($0) } && !entry.key.hasPrefix(prefix + "kinds.") }
            .map { Template(key: $0.key, english: $0.value) }
            .sorted { ($0.literalCount, $1.key) > ($1.literalCount, $0.key) }
    }()

    /// The template `text` was written from and its values; nil for a text no template writes.
    static func parse(_ text: String) -> (key: String, values: [String: String])? {
        for template in templates {
            if let values = template.match(text) { return (template.key, values) }
        }
        return nil
    }
}

extension Localizer {
    /// A task's stored step in this language (`taskText`).
    public func step(_ stored: String) -> String { taskText(stored) }

    /// A text a task stored in English (a step, an input request's text, a failure's cause or
    /// next action) in this language: its template's text here, with the values it was written
    /// with (an asset kind named here too, and a quoted input prompt read the same way); a text
    /// no template wrote (a plugin's own, or Superset's words), or longer than any Ferry
    /// writes, as it is.
    public func taskText(_ stored: String) -> String {
        guard language != "en", !stored.isEmpty, stored.utf8.count <= TaskStepText.maxLength,
              let parsed = TaskStepText.parse(stored) else { return stored }
        var values = parsed.values
        if let kinds = values["kinds"], let named = table[TaskStepText.prefix + "kinds." + kinds] { values["kinds"] = named }
        // A prompt inside a step or a failure is shorter than the text holding it: this ends.
        if let prompt = values["prompt"] { values["prompt"] = taskText(prompt) }
        return t(parsed.key, values)
    }
}
