import Foundation

/// Which Ferry this is: the release number (kept here, bumped by each release) and the commit
/// the release was built from.
///
/// The commit comes from `build.json` in the resources bundle, which `scripts/release` writes
/// into the bundle it ships (a development build has none and reports `dev`). Pure apart from
/// reading that one file once.
public struct FerryVersion: Codable, Sendable, Equatable {
    /// The release number. `scripts/release` reads it from `ferry --version`.
    public static let number = "0.15.0"

    public var version: String
    public var commit: String
    /// When the release was built (the commit's time, so the same commit builds the same files).
    public var built: String?

    /// This process's version.
    public static let current: FerryVersion = {
        let info = Bundle.module.url(forResource: "build", withExtension: "json", subdirectory: "Resources")
            .flatMap { try? Data(contentsOf: $0) }
            .flatMap { try? JSONDecoder().decode(BuildInfo.self, from: $0) }
        return FerryVersion(version: number, commit: info?.commit ?? "dev", built: info?.built)
    }()

    /// `ferry 0.15.0 (commit 1a2b3c4d5e6f)`.
    public var line: String { "ferry \(version) (commit \(commit))" }

    /// What `scripts/release` writes to `Resources/build.json` in the shipped bundle.
    struct BuildInfo: Decodable {
        var commit: String
        var built: String?
    }
}
