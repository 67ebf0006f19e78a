import Foundation

/// Why an export bundle (a Superset asset ZIP) was refused.
///
/// Every case names the offending entry so an operator can find it.
public enum BundleError: Error, Sendable, Equatable, LocalizedError {
    case notAZip
    case tooLarge(String)
    case tooManyEntries(Int)
    case unsafePath(String)
    case link(String)
    case compressionBomb(String)
    case noTopFolder
    case missingMetadata
    case invalidYAML(path: String, message: String)
    case missingField(path: String, field: String)
    case unresolvedReference(String)
    /// A YAML file expands (aliases counted at full size) to more nodes than `limit`.
    case yamlTooLarge(path: String, limit: Int)
    /// A YAML file nests collections deeper than `limit`.
    case yamlTooDeep(path: String, limit: Int)
    /// A YAML integer outside the 64-bit range (`value` is the text, shortened when long).
    case integerOutOfRange(path: String, value: String)

    public var errorDescription: String? {
        switch self {
        case .notAZip: return "The file is not a ZIP archive. Upload a Superset export (.zip)."
        case .tooLarge(let m): return "The archive is too large: \(m)."
        case .tooManyEntries(let n): return "The archive has too many entries (limit \(n))."
        case .unsafePath(let p):
            return "The archive has an unsafe entry path '\(p)' (absolute or leaving its folder); refusing it."
        case .link(let p): return "The archive contains a symbolic link '\(p)'; links are not allowed."
        case .compressionBomb(let p):
            return "The entry '\(p)' expands far more than any real export would (possible ZIP bomb); refusing it."
        case .noTopFolder: return "The archive has no single top folder, as Superset exports have."
        case .missingMetadata: return "The archive has no metadata.yaml; it is not a Superset export."
        case .invalidYAML(let path, let message): return "\(path) is not valid YAML: \(message)"
        case .missingField(let path, let field): return "\(path) lacks the required field '\(field)'."
        case .unresolvedReference(let m): return "The bundle is not closed: \(m)."
        case .yamlTooLarge(let path, let limit):
            return "\(path) expands to more than \(limit) YAML nodes once its aliases (*name) are repeated, far beyond any Superset export "
                + "(a \"billion laughs\" file?); refusing it. Export the assets from Superset again."
        case .yamlTooDeep(let path, let limit):
            return "\(path) nests YAML more than \(limit) levels deep, which no Superset export does; refusing it. Export the assets from Superset again."
        case .integerOutOfRange(let path, let value):
            return "\(path) holds the integer \(value), outside the 64-bit range Superset stores (-9223372036854775808 to 9223372036854775807); "
                + "refusing the file rather than changing the number. Correct the value in Superset, then export again."
        }
    }
}
