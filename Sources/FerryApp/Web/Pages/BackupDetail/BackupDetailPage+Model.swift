import Foundation
import SupersetKit

/// One backup: its summary, a searchable list of what it holds (dashboards downloadable as
/// ZIPs), pin, verify, delete (confirmed), and the restore form: a target and ticks over the
/// listed dashboards, charts and datasets. A corrupt backup says what is wrong and offers no
/// restore.
enum BackupDetailPage {
    struct Model: Equatable {
        var backup: BackupDTO
        /// The contents' filter: text in the name or uuid, and a kind ("" = every kind).
        var search = ""
        var kind = ""
        /// The matching assets, at most `shownLimit`.
        var assets: [BackupAssetDTO] = []
        /// How many match (may exceed what is shown).
        var matching = 0
        /// Why the contents can't be listed (its manifest is missing or damaged).
        var contentsError: String?
        /// Environments the viewer may restore into (`restore:run`).
        var targets: [Target] = []
        var restore = RestoreForm()
        var restoreError: String?
        var deleteError: String?
        var flash: String?
        /// `backup:run` on its environment: pin, verify, delete.
        var canRun = false

        struct Target: Equatable {
            var id: UUID
            var name: String
        }

        /// What was picked (kept when a restore is refused).
        struct RestoreForm: Equatable {
            /// The target environment's id ("" = not picked).
            var target = ""
            var picked: Set<String> = []
        }

        static let shownLimit = 500

        var corrupt: Bool { backup.verifyStatus == "corrupt" }
        /// The restore form is offered only for a readable, uncorrupted backup to someone who
        /// may restore somewhere.
        var canRestore: Bool { !corrupt && contentsError == nil && !targets.isEmpty }
    }
}
