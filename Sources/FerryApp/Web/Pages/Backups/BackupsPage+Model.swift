import Foundation

/// The storage browser's first page: each environment the viewer may read with its backups'
/// count, sizes, newest time and corrupt ones, linking to its backups.
enum BackupsPage {
    struct Model: Equatable {
        struct Row: Equatable {
            var environmentID: UUID
            var environment: String
            /// nil: the environment was deleted since (its backups stay, and can be restored elsewhere).
            var stage: String?
            var count = 0
            /// What its backups hold, summed (assets shared between backups counted in each).
            var totalBytes: Int64 = 0
            /// What its backups added to the storage (each blob counted once, by the backup that stored it).
            var storedBytes: Int64 = 0
            var latest: Date?
            var corrupt = 0
        }

        var rows: [Row]
    }
}
