import Foundation

/// Bounds a bundle reader enforces before and while it expands an archive.
///
/// Defaults fit real exports with a wide margin (an export of 100 dashboards with 600 charts is
/// about 1 MiB zipped); a hostile archive hits a bound before it can exhaust memory.
public struct BundleLimits: Sendable, Equatable {
    /// Largest accepted archive, in bytes.
    public var maxArchiveBytes: Int = 64 << 20
    /// Most entries in one archive.
    public var maxEntries: Int = 20_000
    /// Largest expanded entry, in bytes.
    public var maxEntryBytes: Int = 32 << 20
    /// Largest expanded total, in bytes.
    public var maxTotalBytes: Int = 256 << 20
    /// Highest expansion ratio of one entry, checked once it expands past `ratioFloorBytes`.
    public var maxCompressionRatio: Int = 200
    public var ratioFloorBytes: Int = 1 << 20
    /// Deepest nesting of YAML collections in one file. Superset's exports nest about ten deep.
    public var maxYAMLDepth: Int = 128
    /// Most YAML nodes one file may produce, every alias (`*name`) counted at the full size of
    /// what it repeats, and a scalar weighing one node per 16 bytes of its text (so the bound also
    /// caps the expanded size). Real export files have at most tens of thousands; a "billion laughs"
    /// file passes this bound after a few hundred bytes and is refused there.
    public var maxYAMLNodes: Int = 1_000_000
    /// Most YAML nodes all the files of one archive may produce together, aliases counted the same way.
    public var maxYAMLTotalNodes: Int = 10_000_000

    public init() {}

    public static let `default` = BundleLimits()
}
