import Foundation
import SupersetKit

/// A task's params or result, shown as people read them: a table of named values, lists of
/// records as tables, yes/no as badges, a byte count (a key ending in `Bytes`/`bytes`) as a size,
/// an `error` in red in the reader's language; the JSON itself one click away.
///
/// Names come from the catalogue (`value.<key>`); a key it doesn't name is shown as it is, in
/// code type. Bounded: at most `maxRows` rows per table and `maxDepth` levels of nesting, so a
/// result of any size renders in bounded time and space (the raw JSON shows the rest).
extension Components {
    static let valueTableMaxRows = 100
    static let valueTableMaxDepth = 4

    /// The value as a table (a map), a list, or a single value, followed by its raw JSON.
    static func readable(_ value: BundleValue, testID: String, _ l: Localizer) -> HTMLNode {
        H.group([
            H.el("div", [("class", "readable"), ("data-testid", testID)], [valueNode(value, key: nil, depth: 0, l)]),
            H.el("details", [("class", "raw-json")], [
                H.el("summary", text: l.t("value.raw_json")),
                H.el("pre", text: value.jsonText()),
            ]),
        ])
    }

    /// The name of a value's key: the catalogue's, or the key itself.
    static func valueName(_ key: String, _ l: Localizer) -> HTMLNode {
        let name = l.t("value.\(key)")
        return name == "value.\(key)" ? H.el("code", text: key) : H.text(name)
    }

    /// `key`: the name the value has in its map or its column, if any.
    static func valueNode(_ value: BundleValue, key: String?, depth: Int, _ l: Localizer) -> HTMLNode {
        let isBytes = key.map { $0 == "bytes" || $0.hasSuffix("Bytes") } ?? false
        switch value {
        case .null: return H.el("span", [("class", "muted")], text: "—")
        case .bool(let b): return H.el("span", [("class", b ? "badge ok" : "badge")], text: l.t(b ? "value.yes" : "value.no"))
        case .int(let i) where isBytes && i >= 0: return H.el("span", [("class", "num"), ("title", String(i))], text: l.byteSize(Int64(i)))
        case .string(let s) where key == "error": return H.el("span", [("class", "fail")], text: l.failureText(String(s.prefix(2000))))
        case .int(let i): return H.el("span", [("class", "num")], text: String(i))
        case .double(let d): return H.el("span", [("class", "num")], text: d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(format: "%.2f", d))
        case .string(let s): return H.text(String(s.prefix(2000)))
        case .map(let m):
            guard !m.isEmpty else { return H.el("span", [("class", "muted")], text: "—") }
            guard depth < valueTableMaxDepth else { return H.el("code", text: String(value.jsonText().prefix(500))) }
            let keys = m.keys.sorted()
            return H.el("table", [("class", "grid values")], [
                H.el("tbody", [], keys.prefix(valueTableMaxRows).map { key in
                    H.el("tr", [], [H.el("th", [("scope", "row")], [valueName(key, l)]), H.el("td", [], [valueNode(m[key] ?? .null, key: key, depth: depth + 1, l)])])
                } + (keys.count > valueTableMaxRows ? [more(keys.count - valueTableMaxRows, columns: 2, l)] : [])),
            ])
        case .list(let items):
            guard !items.isEmpty else { return H.el("span", [("class", "muted")], text: "—") }
            guard depth < valueTableMaxDepth else { return H.el("code", text: String(value.jsonText().prefix(500))) }
            let records = items.compactMap(\.mapValue)
            if records.count == items.count {
                // A list of records: one column per key any of them has.
                let columns = Array(Set(records.flatMap(\.keys)).sorted().prefix(12))
                return H.el("table", [("class", "grid values")], [
                    H.el("thead", [], [H.el("tr", [], columns.map { H.el("th", [("scope", "col")], [valueName($0, l)]) })]),
                    H.el("tbody", [], records.prefix(valueTableMaxRows).map { record in
                        H.el("tr", [], columns.map { H.el("td", [], [valueNode(record[$0] ?? .null, key: $0, depth: depth + 1, l)]) })
                    } + (records.count > valueTableMaxRows ? [more(records.count - valueTableMaxRows, columns: columns.count, l)] : [])),
                ])
            }
            if items.allSatisfy({ $0.mapValue == nil && $0.listValue == nil }) {
                let shown = items.prefix(valueTableMaxRows).map { item -> HTMLNode in H.el("li", [], [valueNode(item, key: key, depth: depth + 1, l)]) }
                return H.el("ul", [("class", "values")], shown + (items.count > valueTableMaxRows
                    ? [H.el("li", [("class", "muted")], text: l.t("value.more", ["count": String(items.count - valueTableMaxRows)]))] : []))
            }
            return H.el("ol", [("class", "values")], items.prefix(valueTableMaxRows).map { H.el("li", [], [valueNode($0, key: nil, depth: depth + 1, l)]) })
        }
    }

    private static func more(_ count: Int, columns: Int, _ l: Localizer) -> HTMLNode {
        H.el("tr", [], [H.el("td", [("colspan", String(max(columns, 1))), ("class", "muted")], text: l.t("value.more", ["count": String(count)]))])
    }
}
