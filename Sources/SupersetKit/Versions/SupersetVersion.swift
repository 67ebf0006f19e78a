import Foundation

/// A Superset release number as `GET /version` gives it ("6.1.0", "5.0.0rc2", "4.1.4").
///
/// Only the numeric `major.minor.patch` is kept: a pre-release imports like its release.
/// Invariant: all three parts are non-negative.
public struct SupersetVersion: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = max(0, major)
        self.minor = max(0, minor)
        self.patch = max(0, patch)
    }

    /// Parses the leading `major.minor[.patch]` of `text`; nil when it has none ("unknown").
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).drop { $0 == "v" || $0 == "V" }
        var parts: [Int] = []
        for piece in trimmed.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false).prefix(3) {
            let digits = piece.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 6, let n = Int(digits) else { break }
            parts.append(n)
            if digits.count != piece.count { break }
        }
        guard parts.count >= 2 else { return nil }
        self.init(parts[0], parts[1], parts.count > 2 ? parts[2] : 0)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
    /// "6.1": the release series an importer belongs to.
    public var series: String { "\(major).\(minor)" }

    public static func < (a: SupersetVersion, b: SupersetVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }
}
