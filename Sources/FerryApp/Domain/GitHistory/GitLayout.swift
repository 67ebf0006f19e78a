import Foundation
import SupersetKit

/// How Ferry's git history names things:
///
///     <environment>/environment.yaml
///     <environment>/databases/<name>-<uuid8>.yaml
///     <environment>/dashboards/<slug or uuid>/dashboard.yaml
///     <environment>/dashboards/<slug or uuid>/charts/<name>-<uuid8>.yaml
///     <environment>/dashboards/<slug or uuid>/datasets/<table>-<uuid8>.yaml
///
/// Every name is sanitised (`slug`): lower-case letters, digits, `-` and `_`, at most 60
/// characters, never empty, never `.` or `..`; so no name from Superset can leave its folder.
enum GitLayout {
    static let dashboardFile = "dashboard.yaml"
    static let environmentFile = "environment.yaml"

    static func slug(_ text: String, maxLength: Int = 60) -> String {
        var out = ""
        var dash = false
        for ch in text.lowercased() {
            if ch.isASCII && (ch.isLetter || ch.isNumber || ch == "_") {
                out.append(ch)
                dash = false
            } else if !dash && !out.isEmpty {
                out.append("-")
                dash = true
            }
            if out.count >= maxLength { break }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "untitled" : out
    }

    static func short(_ uuid: String) -> String { String(uuid.lowercased().prefix(8)) }

    /// A member's file inside its dashboard's folder, or a connection's inside `databases/`.
    static func file(kind: AssetKind, name: String, uuid: String) -> String {
        let base = "\(slug(name))-\(short(uuid)).yaml"
        switch kind {
        case .chart: return "charts/" + base
        case .dataset: return "datasets/" + base
        case .database: return base
        case .dashboard: return dashboardFile
        }
    }

    /// The kind of asset a file in a dashboard's folder holds, from its relative path.
    static func kind(ofFile relative: String) -> AssetKind? {
        if relative == dashboardFile { return .dashboard }
        if relative.hasPrefix("charts/") { return .chart }
        if relative.hasPrefix("datasets/") { return .dataset }
        return nil
    }

    /// A dashboard's folder name: its slug, or its uuid when it has none.
    static func dashboardFolder(slug dashboardSlug: String?, uuid: String) -> String {
        if let s = dashboardSlug?.trimmingCharacters(in: .whitespaces), !s.isEmpty { return slug(s) }
        return slug(uuid.lowercased())
    }

    /// The canonical files of one dashboard and its members, by path inside its folder.
    static func files(dashboard: Asset, members: [Asset]) throws -> [String: Data] {
        var out = [dashboardFile: try CanonicalAsset.file(of: dashboard)]
        for asset in members where asset.kind == .chart || asset.kind == .dataset {
            out[file(kind: asset.kind, name: asset.name, uuid: asset.uuid)] = try CanonicalAsset.file(of: asset)
        }
        return out
    }
}
