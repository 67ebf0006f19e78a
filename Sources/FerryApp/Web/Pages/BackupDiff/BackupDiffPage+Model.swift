import Foundation

/// Two backups of one environment compared: what was added, removed, and changed (with the
/// field paths that differ).
enum BackupDiffPage {
    struct Model: Equatable {
        var from: BackupDTO
        var to: BackupDTO
        var diff: BackupDiff

        var identical: Bool { diff.added.isEmpty && diff.removed.isEmpty && diff.changed.isEmpty }
        /// Field paths shown per changed asset; the rest are counted.
        static let fieldLimit = 30
    }
}
