import Foundation

/// One value a translation removes because the target's importer doesn't accept its field.
public struct FieldLoss: Sendable, Equatable, Codable {
    /// Why the loss matters beyond the value itself.
    public enum Reason: String, Sendable, Codable, CaseIterable {
        /// A plain setting: the target shows the asset without it.
        case value
        /// `impersonate_user: true`: the target would query as the connection's own user.
        case securitySetting = "security_setting"
        /// `encrypted_extra` and its masked form: credentials never travel through a bundle.
        case credentials
    }

    /// The field, with its column or metric when nested: "folders", "columns[sold_at].datetime_format".
    public var field: String
    /// The removed value, as compact JSON of at most 200 characters ("[redacted]" for credentials).
    public var value: String
    public var reason: Reason

    public init(field: String, value: String, reason: Reason = .value) {
        self.field = field
        self.value = value
        self.reason = reason
    }
}

/// What translating did to one asset.
public struct AssetTranslation: Sendable, Equatable {
    public var kind: AssetKind
    public var uuid: String
    public var name: String
    /// Values removed that carried something: each must be accepted before the apply.
    public var losses: [FieldLoss]
    /// Fields the target accepts that the source's release didn't have: the target's importer
    /// gives them its defaults ("folders", "columns[].datetime_format").
    public var defaulted: [String]
}

/// Translates a bundle to what one Superset release's importer accepts.
///
/// Purpose: Superset's importers refuse any key they don't know (422 "Unknown field.") and a
/// bundle doesn't say which release wrote it, so a downgrade fails as a whole. This removes every
/// field the target doesn't accept, at every level its importer validates (files, dataset
/// columns and metrics), and reports each removed value that carried something, and, for an
/// upgrade from a known release, the fields the target adds (its importer gives them defaults).
/// Precondition: `target` is the schema of the target's release (`ImportSchema.resolve`).
/// Invariant: the output has the same assets, uuids and references as the input; a field the
/// target accepts is never changed. Pure: no I/O.
public struct BundleTranslator: Sendable {
    public var target: ImportSchema
    /// The source's schema when its release is known: only then are defaults reported.
    public var source: ImportSchema?

    public init(target: ImportSchema, source: ImportSchema? = nil) {
        self.target = target
        self.source = source
    }

    /// Removed without a loss: they describe the source, not the asset. `theme_id` is a source
    /// row id (the theme travels by `theme_uuid`), `source_db_engine` and `data_file` are hints
    /// 6.1's exporter adds for its own importer.
    static let descriptive: Set<String> = ["theme_id", "source_db_engine", "data_file"]

    public func translate(_ bundle: AssetBundle) -> (bundle: AssetBundle, assets: [AssetTranslation]) {
        var out = AssetBundle(metadata: bundle.metadata)
        var report: [AssetTranslation] = []
        for kind in AssetKind.allCases {
            for asset in bundle.all(kind) {
                var translated = asset
                var losses: [FieldLoss] = []
                var defaulted: [String] = []
                translated.fields = strip(asset.fields, part: ImportPart(kind), label: "", losses: &losses, defaulted: &defaulted)
                // Columns and metrics: each loss names its column or metric; a default is named
                // once per field ("columns[].datetime_format"), however many entries take it.
                if kind == .dataset {
                    for (key, part, nameField) in [("columns", ImportPart.column, "column_name"), ("metrics", .metric, "metric_name")] {
                        guard let list = translated[key]?.listValue else { continue }
                        var nestedDefaults = Set<String>()
                        translated[key] = .list(list.map { entry in
                            guard let map = entry.mapValue else { return entry }
                            var d: [String] = []
                            let stripped = strip(map, part: part, label: "\(key)[\(map[nameField]?.stringValue ?? "?")].", losses: &losses, defaulted: &d)
                            nestedDefaults.formUnion(d)
                            return .map(stripped)
                        })
                        defaulted += nestedDefaults.sorted().map { "\(key)[].\($0)" }
                    }
                }
                out.insert(translated)
                if !losses.isEmpty || !defaulted.isEmpty {
                    report.append(AssetTranslation(kind: kind, uuid: asset.uuid, name: asset.name, losses: losses, defaulted: defaulted))
                }
            }
        }
        return (out, report)
    }

    /// `fields` without the keys `part` doesn't accept; a removed value that carries something
    /// is a loss, labelled with `label` (a column's or metric's prefix). Appends to `defaulted`
    /// the unlabelled names of the fields the target adds that `fields` lacks.
    private func strip(_ fields: [String: BundleValue], part: ImportPart, label: String, losses: inout [FieldLoss], defaulted: inout [String]) -> [String: BundleValue] {
        var kept: [String: BundleValue] = [:]
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            if target.accepts(key, in: part) { kept[key] = value; continue }
            guard !Self.descriptive.contains(key), Self.carries(value, field: key) else { continue }
            let reason: FieldLoss.Reason = key == "impersonate_user" ? .securitySetting : Self.isSecret(key) ? .credentials : .value
            losses.append(FieldLoss(field: label + key, value: reason == .credentials ? "[redacted]" : Self.show(value), reason: reason))
        }
        if let source, let added = target.fields[part]?.subtracting(source.fields[part] ?? []) {
            defaulted += added.filter { fields[$0] == nil && !Self.descriptive.contains($0) }.sorted()
        }
        return kept
    }

    /// Whether a field may hold a secret: its value is never shown ("[redacted]").
    static func isSecret(_ field: String) -> Bool {
        let f = field.lowercased()
        return ["password", "secret", "token", "credential", "encrypted", "private_key", "api_key"].contains { f.contains($0) }
    }

    /// Whether a value says anything: not null, not empty, and not the setting's off position.
    static func carries(_ value: BundleValue, field: String) -> Bool {
        switch value {
        case .null: return false
        case .string(let s): return !s.isEmpty && !(field == "configuration_method" && s == "sqlalchemy_form")
        case .list(let l): return !l.isEmpty
        case .map(let m): return !m.isEmpty
        case .bool(let b): return b
        default: return true
        }
    }

    static func show(_ value: BundleValue) -> String {
        let text = value.stringValue ?? value.jsonText()
        return text.count > 200 ? String(text.prefix(199)) + "…" : text
    }
}
