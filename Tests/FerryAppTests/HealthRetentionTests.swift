import Fluent
import Foundation
import Testing
import Vapor

@testable import FerryApp

/// The navigation's red count of failing dashboards, and retention of the health center's rows.
@Suite struct HealthNavigationAndRetentionTests {
    static func check(_ env: UUID, _ dashboard: String, _ status: HealthStatus, at: Date, id: Int = 1) -> DashboardCheckModel {
        let m = DashboardCheckModel()
        m.id = UUID()
        m.taskID = UUID()
        m.environmentID = env
        m.dashboardID = id
        m.dashboardUUID = dashboard
        m.title = "Dashboard \(dashboard)"
        m.status = status.rawValue
        m.issues = "[]"
        m.charts = 0
        m.chartsFailed = 0
        m.queryMilliseconds = 0
        m.screenshots = "[]"
        m.details = "{}"
        m.checkedAt = at
        return m
    }

    static func delivery(at: Date) -> NotificationDeliveryModel {
        let d = NotificationDeliveryModel()
        d.id = UUID()
        d.taskID = UUID()
        d.channelID = UUID()
        d.recipient = ""
        d.status = DeliveryStatus.sent.rawValue
        d.at = at
        return d
    }

    static func navCount(_ html: String) -> Int? {
        html.firstMatch(of: /data-testid="nav-health-failures"[^>]*>(\d+)</).flatMap { Int($0.output.1) }
    }

    @Test(arguments: Store.available)
    func theRedCountIsTheCurrentFailuresOneMaySeeAndRetentionKeepsEachNewestCheck(store: Store) async throws {
        try await withFerry(store) { t in
            let dev = try await t.createEnvironment(sample("dev"))
            let prod = try await t.createEnvironment(sample("prod", stage: "prod"))
            let now = t.clock.now()
            let old = now.addingTimeInterval(-40 * 86_400)
            // dev: a failed long ago and passes now; b passed long ago and fails now; c failed long
            // ago, never checked since; e passed twice long ago and fails now; two dashboards
            // Superset gave no uuid (ids 5 and 6) fail now. prod: d fails now.
            for m in [Self.check(dev.id, "a", .fail, at: old), Self.check(dev.id, "a", .pass, at: now - 60),
                      Self.check(dev.id, "b", .pass, at: old), Self.check(dev.id, "b", .fail, at: now - 30),
                      Self.check(dev.id, "c", .fail, at: old),
                      Self.check(dev.id, "e", .pass, at: old - 86_400), Self.check(dev.id, "e", .pass, at: old), Self.check(dev.id, "e", .fail, at: now - 20),
                      Self.check(dev.id, "", .fail, at: now - 15, id: 5), Self.check(dev.id, "", .fail, at: now - 14, id: 6),
                      Self.check(prod.id, "d", .fail, at: now - 10)] {
                try await m.create(on: t.db)
            }
            let html: HTTPHeaders = ["Accept": "text/html"]
            let admin = try await t.request(.GET, "/dashboards", headers: html).body.string
            #expect(Self.navCount(admin) == 6, "b, c, e and the two without a uuid in dev, d in prod")
            #expect(admin.contains(#"title="6 dashboards failing""#))

            // A viewer limited to prod counts prod's only; the API carries no count.
            let viewer = try await t.limitedUser("prod-viewer", grants: BuiltInRoles.all.first { $0.name == "viewer" }!.grants
                .map { $0.permission.isGlobal ? $0.permission.rawValue : $0.permission.rawValue + "@stage:prod" })
            var asViewer = bearer(viewer)
            asViewer.replaceOrAdd(name: .accept, value: "text/html")
            #expect(Self.navCount(try await t.request(.GET, "/dashboards", headers: asViewer).body.string) == 1)
            // d passes now: the count goes at once (a newer check refreshes the cache), for both.
            try await Self.check(prod.id, "d", .pass, at: now - 5).create(on: t.db)
            let cleared = try await t.request(.GET, "/dashboards", headers: asViewer).body.string
            #expect(Self.navCount(cleared) == nil && !cleared.contains("nav-health-failures"))
            #expect(Self.navCount(try await t.request(.GET, "/dashboards", headers: html).body.string) == 5)

            // Retention at 30 days: the old checks that have newer ones go, except each dashboard's
            // newest PASS (b's and e's newer one: the baseline of the next visual comparison); c's
            // only check stays; the two dashboards without a uuid are two.
            try await Self.delivery(at: old).create(on: t.db)
            try await Self.delivery(at: now - 60).create(on: t.db)
            let pruned = try await HealthRetention.prune(before: now.addingTimeInterval(-30 * 86_400), on: t.db)
            #expect(pruned.checks == 2 && pruned.deliveries == 1)
            let left = try await DashboardCheckModel.query(on: t.db).all().map { "\($0.dashboardUUID) \($0.status)" }.sorted()
            #expect(left == [" fail", " fail", "a pass", "b fail", "b pass", "c fail", "d fail", "d pass", "e fail", "e pass"])
            let baseline = try #require(try await DashboardCheckModel.query(on: t.db).filter(\.$dashboardUUID == "e").filter(\.$status == "pass").first())
            #expect(abs(baseline.checkedAt.timeIntervalSince(old)) < 1, "e's newer PASS is the one kept")
            #expect(try await NotificationDeliveryModel.query(on: t.db).count() == 1)
            #expect(Self.navCount(try await t.request(.GET, "/dashboards", headers: html).body.string) == 5)
        }
    }
}
