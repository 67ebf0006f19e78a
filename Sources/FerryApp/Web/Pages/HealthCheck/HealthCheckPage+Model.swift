import Foundation

/// One dashboard check: its verdict and facts, its issues, every chart's query, the screenshots
/// and console errors of its rendering, and the dashboard's latest checks in the same
/// environment.
enum HealthCheckPage {
    struct Model: Equatable {
        /// The check, with its details (every chart's query, the tabs, console errors).
        var check: DashboardCheckDTO
        /// The dashboard's latest checks in the check's environment (at most `historyLimit`),
        /// newest first; the check itself is among them unless it is older.
        var history: [HealthMatrixRow.Run] = []

        static let historyLimit = 20
    }
}
