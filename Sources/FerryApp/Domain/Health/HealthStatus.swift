import Foundation

/// A dashboard check's verdict, and an issue's severity (`warn` or `fail`).
public enum HealthStatus: String, Codable, Sendable, CaseIterable, Comparable {
    case pass, warn, fail

    private var rank: Int { self == .pass ? 0 : self == .warn ? 1 : 2 }
    public static func < (a: HealthStatus, b: HealthStatus) -> Bool { a.rank < b.rank }
}

/// What a dashboard check found wrong.
public enum HealthIssueKind: String, Codable, Sendable, CaseIterable {
    /// A chart's saved query failed in Superset.
    case queryFailed = "query_failed"
    /// A chart's query returned no rows.
    case emptyResult = "empty_result"
    /// A chart's query took longer than the check's threshold.
    case slowQuery = "slow_query"
    /// A chart has no saved query Superset can run (saved before query contexts existed).
    case noSavedQuery = "no_saved_query"
    /// Layout, members and filters disagree (a filter points at a chart not on this dashboard).
    case structure
    /// A chart's dataset, or a dataset's database, doesn't exist.
    case missingDataset = "missing_dataset"
    case missingDatabase = "missing_database"
    /// Superset drew an error box in a chart.
    case chartErrorBox = "chart_error_box"
    /// Charts still loading when the wait ended.
    case stillLoading = "still_loading"
    /// Errors in the browser console while the dashboard rendered.
    case consoleError = "console_error"
    /// The dashboard couldn't be rendered (chromium missing, crashed or hung; sign-in refused).
    case renderFailed = "render_failed"
    /// The screenshot differs from the last passing one by more than the threshold.
    case visualChange = "visual_change"
    /// What an LLM provider found reviewing the check (its screenshot and findings), or why it
    /// couldn't review it (always WARN).
    case llmReview = "llm_review"
}

/// One finding of a dashboard check: its severity, what it is, the words for the operator, and
/// where (a chart, a tab, or another place such as "LLM review", JSON `where`).
public struct HealthIssue: Codable, Sendable, Equatable {
    public var severity: HealthStatus
    public var kind: HealthIssueKind
    public var message: String
    public var chartID: Int?
    public var chart: String?
    public var tab: String?
    /// Where it was found when that is neither a chart nor a tab ("LLM review").
    public var location: String?

    enum CodingKeys: String, CodingKey {
        case severity, kind, message, chartID, chart, tab
        case location = "where"
    }

    public init(_ severity: HealthStatus, _ kind: HealthIssueKind, _ message: String, chartID: Int? = nil, chart: String? = nil, tab: String? = nil,
                location: String? = nil) {
        self.severity = severity
        self.kind = kind
        self.message = message
        self.chartID = chartID
        self.chart = chart
        self.tab = tab
        self.location = location
    }

    /// The verdict for a list of issues: the worst severity, PASS when there is none.
    public static func verdict(_ issues: [HealthIssue]) -> HealthStatus { issues.map(\.severity).max() ?? .pass }
}
