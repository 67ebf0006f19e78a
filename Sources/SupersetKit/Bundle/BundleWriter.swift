import Foundation
import ZIPFoundation

/// Writes an `AssetBundle` as a ZIP that Superset's import endpoints accept.
///
/// Guarantees: one top folder; a `metadata.yaml` first; file names derived from asset names and
/// uuids (never from source ids); sorted keys and entries and a fixed timestamp, so the same
/// content always gives byte-identical archives.
public struct BundleWriter: Sendable {
    public var topFolder: String

    public init(topFolder: String = "ferry_export") {
        self.topFolder = topFolder
    }

    /// The path of an asset's file below the top folder; this is the key Superset expects in the
    /// `passwords` map of an import.
    public static func path(of asset: Asset, in bundle: AssetBundle) -> String {
        let stem = slug(asset.name) + "_" + String(asset.uuid.prefix(8))
        switch asset.kind {
        case .dataset:
            let dbName = asset.databaseUUID.flatMap { bundle.asset(.database, uuid: $0)?.name } ?? "unknown"
            return "datasets/\(slug(dbName))/\(stem).yaml"
        default:
            return "\(asset.kind.folder)/\(stem).yaml"
        }
    }

    /// The archive's files, path (below the top folder) to text.
    public func files(_ bundle: AssetBundle) throws -> [(String, String)] {
        var out: [(String, String)] = [("metadata.yaml", try BundleValue.map(bundle.metadata).yamlText())]
        var seen: Set<String> = ["metadata.yaml"]
        for kind in AssetKind.allCases {
            for asset in bundle.all(kind) {
                var path = Self.path(of: asset, in: bundle)
                if seen.contains(path) {  // two names slugging alike with the same uuid prefix
                    path = path.replacingOccurrences(of: ".yaml", with: "_\(asset.uuid).yaml")
                }
                seen.insert(path)
                out.append((path, try BundleValue.map(asset.fields).yamlText()))
            }
        }
        return out
    }

    public func write(_ bundle: AssetBundle) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        let fixedDate = Date(timeIntervalSince1970: 315_532_800)  // 1980-01-01, the ZIP epoch
        for (path, text) in try files(bundle) {
            let data = Data(text.utf8)
            try archive.addEntry(
                with: "\(topFolder)/\(path)", type: .file, uncompressedSize: Int64(data.count),
                modificationDate: fixedDate, permissions: 0o644, compressionMethod: .deflate
            ) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let out = archive.data else { throw BundleError.notAZip }
        return out
    }

    static func slug(_ name: String) -> String {
        var out = ""
        var lastUnderscore = false
        for scalar in name.unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) || scalar == "-" {
                out.unicodeScalars.append(scalar)
                lastUnderscore = false
            } else if !lastUnderscore {
                out += "_"
                lastUnderscore = true
            }
        }
        let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
        return trimmed.isEmpty ? "asset" : String(trimmed.prefix(60))
    }
}
