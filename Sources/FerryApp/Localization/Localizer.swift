import Foundation

/// Looks user-facing text up in the catalogue (`Resources/Localization/<lang>.json`).
///
/// Invariant: every key exists in every language (a test enforces it); a missing key renders as
/// the key itself so the gap is visible, never as an empty string.
public struct Localizer: Sendable {
    public static let languages = ["en", "ru"]
    public let language: String
    let table: [String: String]

    public init(language: String, catalogue: Catalogue = .shared) {
        let lang = Self.languages.contains(language) ? language : "en"
        self.language = lang
        self.table = catalogue.tables[lang] ?? [:]
    }

    /// The text for `key`, with `{name}` placeholders replaced in one pass (a value is not
    /// searched for placeholders in turn; a placeholder without an argument stays as it is).
    public func t(_ key: String, _ args: [String: String] = [:]) -> String {
        let text = table[key] ?? key
        guard !args.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 32)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x7B, let close = bytes[(i + 1)...].firstIndex(of: 0x7D),
                let value = args[String(decoding: bytes[(i + 1)..<close], as: UTF8.self)] {
                out.append(contentsOf: value.utf8)
                i = close + 1
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Picks a language: explicit choice, then the cookie, then Accept-Language, then the default.
    public static func negotiate(query: String?, cookie: String?, acceptLanguage: String?, fallback: String) -> String {
        for candidate in [query, cookie] {
            if let c = candidate, languages.contains(c) { return c }
        }
        for part in (acceptLanguage ?? "").split(separator: ",") {
            let tag = part.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            let primary = String(tag.prefix(2))
            if languages.contains(primary) { return primary }
        }
        return fallback
    }
}

/// The loaded catalogue of every language.
public struct Catalogue: Sendable {
    public let tables: [String: [String: String]]

    public static let shared: Catalogue = {
        var tables: [String: [String: String]] = [:]
        for lang in Localizer.languages {
            guard let url = Bundle.module.url(forResource: lang, withExtension: "json", subdirectory: "Resources/Localization"),
                let data = try? Data(contentsOf: url),
                let table = try? JSONDecoder().decode([String: String].self, from: data)
            else { continue }
            tables[lang] = table
        }
        return Catalogue(tables: tables)
    }()
}
