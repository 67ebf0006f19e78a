import Foundation

/// A database connection on one side of a promotion, as Ferry needs it to map and rewrite.
///
/// Invariant: `uri` is as Superset shows it, the password masked; it is never a secret.
public struct DatabaseRef: Sendable, Hashable, Codable {
    public var id: Int?
    public var uuid: String
    public var name: String
    /// `postgresql`, `sqlite`, `mysql`... (the URI scheme before any `+driver`).
    public var backend: String
    public var uri: String

    public init(id: Int? = nil, uuid: String, name: String, backend: String? = nil, uri: String) {
        self.id = id
        self.uuid = uuid
        self.name = name
        self.uri = uri
        self.backend = backend ?? DatabaseRef.backend(of: uri)
    }

    /// The scheme of a SQLAlchemy URI without its driver: `postgresql+psycopg2://` -> `postgresql`.
    public static func backend(of uri: String) -> String {
        let scheme = uri.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return scheme.split(separator: "+").first.map { $0.lowercased() } ?? ""
    }

    /// The catalog Superset records on datasets of this connection by default: the database name
    /// of a PostgreSQL URI; nil for backends without catalogs in Superset 6 (SQLite, MySQL...).
    public var defaultCatalog: String? {
        guard backend == "postgresql" || backend == "postgres" else { return nil }
        guard let slash = uri.range(of: "/", options: [], range: (uri.range(of: "://")?.upperBound ?? uri.startIndex)..<uri.endIndex) else { return nil }
        let rest = uri[slash.upperBound...]
        let name = rest.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        return name.isEmpty ? nil : name.removingPercentEncoding ?? name
    }

    /// The database file a bundle carries for this connection: only the fields import validation
    /// needs. Importing it never changes the connection: Superset finds it by uuid and keeps it
    /// (databases are imported with overwrite off by the dashboard, chart and dataset importers).
    public var bundleAsset: Asset {
        Asset(kind: .database, fields: [
            "database_name": .string(name), "sqlalchemy_uri": .string(uri), "uuid": .string(uuid),
            "version": .string("1.0.0"), "expose_in_sqllab": .bool(true),
        ])
    }
}

/// One ranked candidate for mapping a source database to a target connection.
public struct DatabaseSuggestion: Sendable, Equatable, Codable {
    public var target: DatabaseRef
    /// 0-100.
    public var confidence: Int

    public init(target: DatabaseRef, confidence: Int) {
        self.target = target
        self.confidence = confidence
    }
}

/// Ranks target connections for a source database by name similarity and backend.
///
/// The comparison ignores case, separators, word order and stage words (dev, stage, prod...), so
/// "Sales DWH (dev)" matches "prod_dwh_sales" fully. A different backend costs a fifth of the score.
public enum DatabaseMatcher {
    static let stageWords: Set<String> = [
        "dev", "develop", "development", "stg", "stage", "staging", "prod", "prd", "production", "test", "testing",
        "qa", "uat", "preprod", "sandbox", "live", "local",
    ]

    /// Lower-cased words of a name, split at separators and camel-case humps, stage words dropped.
    public static func words(_ name: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousWasLower = false
        for ch in name {
            if ch.isLetter || ch.isNumber {
                if ch.isUppercase && previousWasLower && !current.isEmpty { words.append(current); current = "" }
                current.append(Character(ch.lowercased()))
                previousWasLower = ch.isLowercase || ch.isNumber
            } else {
                if !current.isEmpty { words.append(current); current = "" }
                previousWasLower = false
            }
        }
        if !current.isEmpty { words.append(current) }
        let kept = words.filter { !stageWords.contains($0) }
        return kept.isEmpty ? words : kept
    }

    /// Name similarity in 0...1: the better of word overlap and letter-pair overlap of the sorted words.
    public static func similarity(_ a: String, _ b: String) -> Double {
        let wa = Set(words(a)), wb = Set(words(b))
        if wa.isEmpty || wb.isEmpty { return 0 }
        let wordScore = 2 * Double(wa.intersection(wb).count) / Double(wa.count + wb.count)
        let pa = pairs(wa.sorted().joined()), pb = pairs(wb.sorted().joined())
        var pairScore = 0.0
        if !pa.isEmpty && !pb.isEmpty {
            var remaining = pb
            var common = 0
            for p in pa { if let i = remaining.firstIndex(of: p) { remaining.remove(at: i); common += 1 } }
            pairScore = 2 * Double(common) / Double(pa.count + pb.count)
        } else if wa == wb {
            pairScore = 1
        }
        return max(wordScore, pairScore)
    }

    private static func pairs(_ s: String) -> [String] {
        let chars = Array(s)
        guard chars.count > 1 else { return chars.isEmpty ? [] : [String(chars)] }
        return (0..<(chars.count - 1)).map { String(chars[$0...$0 + 1]) }
    }

    /// Target connections ranked best first, with a confidence percentage.
    public static func suggestions(for source: DatabaseRef, among targets: [DatabaseRef]) -> [DatabaseSuggestion] {
        targets.map { target in
            let name = similarity(source.name, target.name)
            let backend = source.backend == target.backend ? 1.0 : 0.0
            return DatabaseSuggestion(target: target, confidence: Int((100 * (0.8 * name + 0.2 * backend)).rounded()))
        }
        .sorted { ($0.confidence, $1.target.name) > ($1.confidence, $0.target.name) }
    }
}
