import Fluent
import Foundation
import SQLKit

/// A dashboard check as the API and pages show it.
struct DashboardCheckDTO: Codable, Sendable, Equatable {
    struct Screenshot: Codable, Sendable, Equatable {
        var index: Int
        var tab: String?
        var bytes: Int
    }
    var id: UUID
    var taskId: UUID
    var environmentId: UUID
    var environment: String
    var dashboardId: Int
    var dashboardUuid: String
    var title: String
    var status: HealthStatus
    var issues: [HealthIssue]
    var charts: Int
    var chartsFailed: Int
    var queryMs: Int
    var renderMs: Int?
    var visualChange: Double?
    var screenshots: [Screenshot]
    var checkedAt: Date
    /// Every chart's query, the tabs and the console errors (only for one check, not in lists).
    var details: DashboardCheckDetails?
}

/// One dashboard's row of the health matrix: its latest checks, newest first.
struct HealthMatrixRow: Sendable, Equatable {
    struct Run: Sendable, Equatable { var id: UUID; var status: HealthStatus; var checkedAt: Date }
    var environmentID: UUID
    var dashboardUUID: String
    var dashboardID: Int
    var title: String
    var runs: [Run]
    var latest: HealthStatus { runs.first?.status ?? .pass }
}

/// Reads of dashboard checks. Callers pass the environments the user may read; nothing outside
/// them is returned.
enum HealthService {
    static func dto(_ row: DashboardCheckModel, names: EnvironmentDirectory, withDetails: Bool) -> DashboardCheckDTO {
        let decoder = JSONDecoder()
        let issues = (try? decoder.decode([HealthIssue].self, from: Data(row.issues.utf8))) ?? []
        let shots = (try? decoder.decode([HealthScreenshotRef].self, from: Data(row.screenshots.utf8))) ?? []
        return DashboardCheckDTO(
            id: row.id!, taskId: row.taskID, environmentId: row.environmentID, environment: names.name(row.environmentID), dashboardId: row.dashboardID,
            dashboardUuid: row.dashboardUUID, title: row.title, status: HealthStatus(rawValue: row.status) ?? .fail, issues: issues, charts: row.charts,
            chartsFailed: row.chartsFailed, queryMs: row.queryMilliseconds, renderMs: row.renderMilliseconds, visualChange: row.visualChange,
            screenshots: shots.enumerated().map { .init(index: $0.offset, tab: $0.element.tab, bytes: $0.element.bytes) }, checkedAt: row.checkedAt,
            details: withDetails ? try? decoder.decode(DashboardCheckDetails.self, from: Data(row.details.utf8)) : nil)
    }

    struct Filter: Sendable {
        var environments: [UUID]
        var environment: UUID?
        var status: HealthStatus?
        var dashboard: String?
        var task: UUID?
        var offset = 0
        var limit = 50
    }

    /// Checks, newest first, and how many match.
    static func checks(_ f: Filter, on db: any Database) async throws -> ([DashboardCheckModel], Int) {
        let q = DashboardCheckModel.query(on: db).filter(\.$environmentID ~~ f.environments)
        if let e = f.environment { q.filter(\.$environmentID == e) }
        if let s = f.status { q.filter(\.$status == s.rawValue) }
        if let d = f.dashboard, !d.isEmpty {
            if let id = Int(d) { q.filter(\.$dashboardID == id) } else { q.filter(\.$dashboardUUID == d) }
        }
        if let t = f.task { q.filter(\.$taskID == t) }
        let total = try await q.copy().count()
        let rows = try await q.sort(\.$checkedAt, .descending).sort(\.$id).range(f.offset..<(f.offset + f.limit)).all()
        return (rows, total)
    }

    /// The latest check of each of `items` (dashboards, one page of a list): one narrow read
    /// per environment.
    static func latestByDashboard(of items: [InventoryItemDTO], on db: any Database) async throws -> [String: HealthMatrixRow.Run] {
        let ids = Dictionary(grouping: items, by: \.environmentId).mapValues { $0.map(\.id) }
        return try await latestByDashboard(environments: Array(ids.keys), only: ids, on: db)
    }

    /// The latest check of each dashboard of `environments` (from the newest `scan` checks of
    /// each), keyed `"<environment id> <dashboard id>"` (the id in lower case). `only`, when
    /// given, narrows each environment to those dashboard ids (a page of a hub: one small read).
    static func latestByDashboard(environments: [UUID], only: [UUID: [Int]]? = nil, scan: Int = 5000,
                                  on db: any Database) async throws -> [String: HealthMatrixRow.Run] {
        // The four columns needed, read with SQLKit: hubs call this per view, and a Fluent read
        // of the whole model (every column aliased, each row reflected) was most of its cost.
        struct Row: Decodable {
            var id: UUID, dashboardID: Int, status: String, checkedAt: Date
            enum CodingKeys: String, CodingKey { case id, dashboardID = "dashboard_id", status, checkedAt = "checked_at" }
        }
        let sql = TaskStore.sql(db)
        var latest: [String: HealthMatrixRow.Run] = [:]
        for environment in Set(environments) {
            let select = sql.select().column("id").column("dashboard_id").column("status").column("checked_at")
                .from(DashboardCheckModel.schema).where("environment_id", .equal, SQLBind(environment))
            if let only {
                let ids = Array(Set(only[environment] ?? []))
                if ids.isEmpty { continue }
                select.where("dashboard_id", .in, SQLBind.group(ids))
            }
            let rows = try await select.orderBy("checked_at", .descending).limit(scan).all(decoding: Row.self)
            let prefix = environment.uuidString.lowercased() + " "
            for r in rows {
                let key = prefix + String(r.dashboardID)
                if latest[key] == nil {
                    latest[key] = .init(id: r.id, status: HealthStatus(rawValue: r.status) ?? .fail, checkedAt: r.checkedAt)
                }
            }
        }
        return latest
    }

    /// Each dashboard checked in `environment` with its latest `runs` checks (from the newest
    /// `scan` checks of the environment), worst latest status first, then by title.
    static func matrix(environment: UUID, runs: Int = 8, scan: Int = 5000, on db: any Database) async throws -> [HealthMatrixRow] {
        let rows = try await DashboardCheckModel.query(on: db).filter(\.$environmentID == environment)
            .sort(\.$checkedAt, .descending).range(0..<scan).all()
        var order: [String] = []
        var byDashboard: [String: HealthMatrixRow] = [:]
        for r in rows {
            let key = r.dashboardUUID.isEmpty ? "id:\(r.dashboardID)" : r.dashboardUUID
            if byDashboard[key] == nil {
                order.append(key)
                byDashboard[key] = HealthMatrixRow(environmentID: environment, dashboardUUID: r.dashboardUUID, dashboardID: r.dashboardID, title: r.title, runs: [])
            }
            if byDashboard[key]!.runs.count < runs {
                byDashboard[key]!.runs.append(.init(id: r.id!, status: HealthStatus(rawValue: r.status) ?? .fail, checkedAt: r.checkedAt))
            }
        }
        return order.compactMap { byDashboard[$0] }.sorted {
            $0.latest != $1.latest ? $0.latest > $1.latest : $0.title.localizedStandardCompare($1.title) == .orderedAscending
        }
    }
}
