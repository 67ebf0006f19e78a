import Foundation

/// One value an update changes on the target: a line of the plan's field-level diff.
public struct FieldChange: Sendable, Equatable, Codable {
    /// Where, from the asset's top: `params.metrics`, `columns[sold_at].type`,
    /// `position.CHART-abc.meta.width`, `metadata.native_filter_configuration[0].name`.
    public var field: String
    /// The target's value now, as compact JSON cut to `CanonicalAsset.valueLimit` characters; nil
    /// when the target has no such field.
    public var before: String?
    /// The value after the apply (the source's); nil when the apply removes the field.
    public var after: String?

    public init(field: String, before: String?, after: String?) {
        self.field = field
        self.before = before
        self.after = after
    }
}

extension CanonicalAsset {
    /// At most this many changes are listed per asset (the plan says when there are more).
    public static let changeLimit = 40
    /// A value longer than this is cut, with "…".
    public static let valueLimit = 160
    /// A field path longer than this is cut, with "…".
    public static let fieldLimit = 200
    /// Maps and lists nested deeper than this are compared whole.
    static let diffDepth = 8
    /// The keys that name a record in a list (dataset columns and metrics).
    static let recordKeys = ["column_name", "metric_name"]

    /// The leaf differences between the target's `current` version of an asset and the `asset`
    /// an apply would write, both in canonical form (instance ids replaced by uuids, so only real
    /// changes show), in field order. Records in a list are matched by their name when they have
    /// one (`columns[sold_at]`), else by position; lists of different lengths without names are
    /// one change. Returns at most `limit` changes and whether more were left out.
    ///
    /// Pure: reads nothing but its arguments.
    public static func fieldChanges(_ asset: Asset, from current: Asset, limit: Int = changeLimit) -> (changes: [FieldChange], more: Bool) {
        var out: [FieldChange] = []
        var more = false
        diff("", .map(fields(of: current)), .map(fields(of: asset)), depth: 0, limit: limit, into: &out, more: &more)
        return (out, more)
    }

    private static func diff(_ rawPath: String, _ before: BundleValue?, _ after: BundleValue?, depth: Int, limit: Int,
                             into out: inout [FieldChange], more: inout Bool) {
        guard (before ?? .null) != (after ?? .null) else { return }
        if out.count >= limit { more = true; return }
        // A path built from the asset's own keys is cut like a value.
        let path = rawPath.count > fieldLimit ? String(rawPath.prefix(fieldLimit)) + "…" : rawPath
        let deeper = depth < diffDepth
        switch (before, after) {
        case (.map(let b)?, .map(let a)?) where deeper:
            for key in Set(b.keys).union(a.keys).sorted() {
                diff(path.isEmpty ? key : path + "." + key, b[key], a[key], depth: depth + 1, limit: limit, into: &out, more: &more)
            }
        case (.list(let b)?, .list(let a)?) where deeper:
            if let named = recordKey(b, a) {
                let byName = { (list: [BundleValue]) in
                    Dictionary(list.compactMap { v in v[named]?.stringValue.map { ($0, v) } }, uniquingKeysWith: { first, _ in first })
                }
                let (bb, aa) = (byName(b), byName(a))
                for name in Set(bb.keys).union(aa.keys).sorted() {
                    diff("\(path)[\(name)]", bb[name], aa[name], depth: depth + 1, limit: limit, into: &out, more: &more)
                }
            } else if b.count == a.count {
                for i in b.indices {
                    diff("\(path)[\(i)]", b[i], a[i], depth: depth + 1, limit: limit, into: &out, more: &more)
                }
            } else {
                out.append(FieldChange(field: path, before: short(before), after: short(after)))
            }
        default:
            out.append(FieldChange(field: path, before: short(before), after: short(after)))
        }
    }

    /// The key every element of `before` and of `after` is named by, uniquely within each
    /// list, when there is one (else the lists are compared by position).
    private static func recordKey(_ before: [BundleValue], _ after: [BundleValue]) -> String? {
        guard !before.isEmpty || !after.isEmpty else { return nil }
        return recordKeys.first { key in
            [before, after].allSatisfy { list in
                let names = list.compactMap { $0[key]?.stringValue }
                return names.count == list.count && Set(names).count == names.count
            }
        }
    }

    /// A value as a person reads it: a string as itself, anything else as compact JSON; cut.
    static func short(_ value: BundleValue?) -> String? {
        guard let value, value != .null else { return nil }
        let text = value.stringValue ?? value.jsonText()
        return text.count > valueLimit ? String(text.prefix(valueLimit)) + "…" : text
    }
}
