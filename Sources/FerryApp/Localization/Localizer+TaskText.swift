import Foundation

/// What a task stores as English text, in the catalogue: its steps (`step.<key>`), the texts
/// of an input request (`input.<key>`), a failure's cause and next action (`failure.<key>`,
/// `failure.<key>.next`); and, read back the same way, a refused field's message
/// (`field.<key>`) and a refusal's detail (`problem.<key>`), which the API answers in English
/// and a page shows in its reader's language. Plugins name a text by its key and values; the task
/// keeps the English text (what the API, the CLI and the logs show, as before). A page or a
/// live stream shows a stored text in its reader's language by finding the English template
/// it was written from: texts stored before they were in the catalogue read the same way, and
/// the store keeps one text per field.
///
/// Invariant: every template's English text is what `english(_:_:)`/`text(_:_:)` write, so each
/// written text matches its template (a test renders every template and reads it back).
enum TaskText {
    static let prefix = "step."
    /// The catalogue's families of stored task texts, by key prefix.
    enum Family: String, CaseIterable, Sendable {
        case step = "step.", input = "input.", failure = "failure.", field = "field.", problem = "problem."
    }
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

        /// The values of `text` when it was written from this template. Linear in the text:
        /// each value ends where the next literal text first occurs (after at least one
        /// character), and the last literal text, if the template ends with one, ends the text.
        /// Taking the first occurrence loses no match: if the text from a later occurrence
        /// matched the rest of the template, the text from the first would too (the next value
        /// taking the difference).
        func match(_ text: String) -> [String: String]? {
            var values: [String: String] = [:]
            var rest = Substring(text)
            var i = parts.startIndex
            while i < parts.endIndex {
                switch parts[i] {
                case .text(let literal):
                    // Foundation's search throughout (as where a value ends), never Character counts.
                    guard let found = rest.range(of: literal, options: .anchored) else { return nil }
                    rest = rest[found.upperBound...]
                    i += 1
                case .value(let name):
                    guard !rest.isEmpty else { return nil }  // a value is at least one character
                    let next = i + 1
                    guard next < parts.endIndex else {
                        values[name] = String(rest)
                        return values
                    }
                    // Two values side by side, which templates avoid, can't be told apart.
                    guard case .text(let literal) = parts[next] else { return nil }
                    if next + 1 == parts.endIndex {
                        guard let found = rest.range(of: literal, options: [.anchored, .backwards]), found.lowerBound > rest.startIndex else { return nil }
                        values[name] = String(rest[..<found.lowerBound])
                        return values
                    }
                    guard let found = rest[rest.index(after: rest.startIndex)...].range(of: literal) else { return nil }
                    values[name] = String(rest[..<found.lowerBound])
                    rest = rest[found.lowerBound...]
                    i = next
                }
            }
            return rest.isEmpty ? values : nil
        }
    }

    /// Every template of the `families` in the English catalogue, the most specific first.
    static let templates: [Template] = {
        let english = Catalogue.shared.tables["en"] ?? [:]
        return english.filter { entry in Family.allCases.contains { entry.key.hasPrefix($0.rawValue) } && !entry.key.hasPrefix(prefix + "kinds.") }
            .map { Template(key: $0.key, english: $0.value) }
            .sorted { ($0.literalCount, $1.key) > ($1.literalCount, $0.key) }
    }()

    private static let templatesByFamily: [Family: [Template]] = Dictionary(grouping: templates) { template in
        Family.allCases.first { template.key.hasPrefix($0.rawValue) } ?? .step
    }

    /// The template of `family` that `text` was written from and its values; nil for a text no
    /// template of that family writes (a step is never read as a failure, nor a label as a step).
    static func parse(_ text: String, family: Family) -> (key: String, values: [String: String])? {
        for template in templatesByFamily[family] ?? [] {
            if let values = template.match(text) { return (template.key, values) }
        }
        return nil
    }
}

extension Localizer {
    /// A task's stored step in this language (`taskText`).
    public func step(_ stored: String) -> String { taskText(stored, .step) }

    /// A failed task's stored cause or next action in this language (`taskText`). A task that
    /// failed on a refusal (an `AppError`) stored the refusal's detail: a `problem.` text, or
    /// each refused field's `field.` message as "field: message; …"; those read back too.
    public func failureText(_ stored: String) -> String {
        knownText(stored, .failure) ?? knownText(stored, .problem) ?? fieldsText(stored) ?? stored
    }

    /// "field: message; …" (an `AppError.validation`'s detail) with each message in this
    /// language; nil unless the catalogue wrote every one of them.
    private func fieldsText(_ detail: String) -> String? {
        guard language != "en", detail.utf8.count <= TaskText.maxLength else { return nil }
        // A message may hold "; " itself ("no environment 'x'; GET /api/environments lists
        // them"): a piece that doesn't start with a field name belongs to the one before.
        var pieces: [(field: Substring, message: String)] = []
        for piece in detail.components(separatedBy: "; ") {
            if let colon = piece.range(of: ": "), Self.isFieldName(piece[..<colon.lowerBound]) {
                pieces.append((piece[..<colon.upperBound], String(piece[colon.upperBound...])))
            } else if !pieces.isEmpty {
                pieces[pieces.count - 1].message += "; " + piece
            } else {
                return nil
            }
        }
        var out: [String] = []
        for piece in pieces {
            guard let message = knownText(piece.message, .field) else { return nil }
            out.append(piece.field + message)
        }
        return out.joined(separator: "; ")
    }

    /// A refused field's name as `FieldError` has it: "name", "params.backup", "dashboards[3]".
    private static func isFieldName(_ text: Substring) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_.[]".unicodeScalars.contains($0) }
    }

    /// A cause held inside a refusal (`why`: an upload's reason, Superset's failure) in this
    /// language, read back as a refusal's or a task failure's; `depth` bounds how deep causes
    /// inside causes are read (each level tries every template on the rest of the text).
    func causeText(_ why: String, depth: Int = 0) -> String {
        guard depth < 2 else { return why }
        return knownText(why, .problem, depth: depth + 1) ?? knownText(why, .failure, depth: depth + 1) ?? why
    }

    /// A git failure's cause and next action, in this language, as one text (for a page).
    func failureText(_ failure: GitFailure) -> String { failureText(failure.message) + " " + failureText(failure.next) }

    /// An input request's stored prompt, field title, hint or option label in this language
    /// (`taskText`).
    public func inputText(_ stored: String) -> String { taskText(stored, .input) }

    /// A text a task stored in English, in this language: the text here of the template of
    /// `family` it was written from, with the values it was written with (an asset kind named
    /// here too, and a quoted input prompt read the same way); a text no template wrote (a
    /// plugin's own, or Superset's or git's words), or longer than any Ferry writes, as it is.
    func taskText(_ stored: String, _ family: TaskText.Family) -> String { knownText(stored, family) ?? stored }

    /// `taskText`, nil for a text no template of `family` wrote (or in English).
    private func knownText(_ stored: String, _ family: TaskText.Family, depth: Int = 0) -> String? {
        guard language != "en", !stored.isEmpty, stored.utf8.count <= TaskText.maxLength,
              let parsed = TaskText.parse(stored, family: family) else { return nil }
        var values = parsed.values
        if let kinds = values["kinds"], let named = table[TaskText.prefix + "kinds." + kinds] { values["kinds"] = named }
        // A prompt inside a step or a failure is shorter than the text holding it: this ends.
        if let prompt = values["prompt"] { values["prompt"] = inputText(prompt) }
        // A refusal's cause inside it (an upload's: why the archive was refused; Superset's
        // failure as SupersetKit words it), the same way.
        if family == .problem, let why = values["why"] { values["why"] = causeText(why, depth: depth) }
        return t(parsed.key, values)
    }
}
