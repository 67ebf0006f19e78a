import Fluent
import Foundation

/// One dashboard's check by a `dashboard.check` task. Row of `dashboard_checks`.
///
/// Invariant: `status` is the worst severity of `issues` (PASS when empty); `screenshots` names
/// files of `HealthScreenshots` that may since have gone to retention (the row stays).
final class DashboardCheckModel: Model, @unchecked Sendable {
    static let schema = "dashboard_checks"
    @ID(key: .id) var id: UUID?
    @Field(key: "task_id") var taskID: UUID
    @Field(key: "environment_id") var environmentID: UUID
    @Field(key: "dashboard_id") var dashboardID: Int
    @Field(key: "dashboard_uuid") var dashboardUUID: String
    @Field(key: "title") var title: String
    /// `HealthStatus`.
    @Field(key: "status") var status: String
    /// JSON list of `HealthIssue`.
    @Field(key: "issues") var issues: String
    @Field(key: "charts") var charts: Int
    @Field(key: "charts_failed") var chartsFailed: Int
    @Field(key: "query_ms") var queryMilliseconds: Int
    @OptionalField(key: "render_ms") var renderMilliseconds: Int?
    /// Percent of pixels changed from the last passing screenshot of this dashboard.
    @OptionalField(key: "visual_change") var visualChange: Double?
    /// JSON list of `HealthScreenshotRef`.
    @Field(key: "screenshots") var screenshots: String
    /// JSON `DashboardCheckDetails`: every chart's query, the tabs, console errors.
    @Field(key: "details") var details: String
    @Field(key: "checked_at") var checkedAt: Date
    init() {}
}
