import Foundation

/// The environments list.
enum EnvironmentsPage {
    struct Model: Equatable {
        struct Row: Equatable {
            var id: UUID
            var name: String
            var url: String
            var stage: String
            var username: String
            var authProvider: String
            var isDefault: Bool
            var lastSyncAt: Date?
            var syncStatus: String?
            var syncError: String?
            var counts: [String: Int]
            /// Whether the viewer may edit and delete it (`environments:write` on it).
            var canWrite = false
            /// Whether the viewer may start a sync of it (`tasks:run` on it).
            var canSync = false
        }

        /// The outcome of a connection test shown above the list.
        struct TestOutcome: Equatable {
            var environment: String
            var result: ConnectionTestResult
        }

        var rows: [Row]
        /// Whether the viewer may add an environment (`environments:write` on some environment).
        var canAdd = false
        var test: TestOutcome?
        /// A one-line success message (after save, delete, sync).
        var flash: String?
    }
}

extension EnvironmentsPage.Model.Row {
    init(_ dto: EnvironmentDTO) {
        self.init(
            id: dto.id, name: dto.name, url: dto.url, stage: dto.stage, username: dto.username, authProvider: dto.authProvider,
            isDefault: dto.isDefault, lastSyncAt: dto.sync?.succeededAt, syncStatus: dto.sync?.status, syncError: dto.sync?.error,
            counts: dto.sync?.counts ?? [:])
    }
}
