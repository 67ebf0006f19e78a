import Fluent
import Foundation
import SQLKit
import SupersetKit

/// The git history as the API, pages and CLI read it: dashboards with their drift, a
/// dashboard's revisions, and comparisons. Callers have authorised the environments first.
enum GitService {
    /// A page (`range`) of an environment's dashboards with their drift, and how many match:
    /// committed ones from `git_dashboards`, the others (in `inventory`, the index's current
    /// snapshot, never committed) as `uncommitted`; `drift` and `search` (title, uuid or folder,
    /// any case) narrow them. Sorted by title (case-insensitive), then uuid.
    ///
    /// One read of the committed records' shown columns; the list is sorted as light rows and
    /// only the page's rows become DTOs (an environment has thousands of dashboards, a page 50).
    static func dashboards(environment env: EnvironmentRef, drift: GitDriftStatus?, search: String?, inventory: InventoryIndex.Snapshot,
                           range: Range<Int>, on db: any Database) async throws -> (items: [GitDashboardDTO], total: Int) {
        let committed = try await TaskStore.sql(db).select()
            .column("dashboard_uuid").column("title").column("dir").column("drift").column("commit_sha").column("committed_at").column("checked_at")
            .from(GitDashboardModel.schema).where("environment_id", .equal, SQLBind(env.id))
            .all(decoding: CommittedRow.self)
        let needle = search?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        func matches(_ lowerTitle: String, _ uuid: String, _ path: String) -> Bool {
            needle.isEmpty || lowerTitle.contains(needle) || uuid.contains(needle) || path.contains(needle)
        }
        // (lower-cased title, uuid, the committed record's index or nil, the inventory's title)
        var rows: [(key: String, uuid: String, committed: Int?, title: String)] = []
        for (i, c) in committed.enumerated() where drift == nil || c.drift == drift?.rawValue {
            let key = c.title.lowercased()
            if matches(key, c.dashboardUUID, c.dir) { rows.append((key, c.dashboardUUID, i, c.title)) }
        }
        if drift == nil || drift == .uncommitted {
            let known = Set(committed.map(\.dashboardUUID))
            for item in inventory.byKind[AssetKind.dashboard.rawValue] ?? [] where item.environmentID == env.id {
                guard let uuid = item.uuid?.lowercased(), !known.contains(uuid) else { continue }
                let key = item.name.lowercased()
                if matches(key, uuid, "") { rows.append((key, uuid, nil, item.name)) }
            }
        }
        rows.sort { ($0.key, $0.uuid) < ($1.key, $1.uuid) }
        let first = min(max(0, range.lowerBound), rows.count)
        let shown = rows[first..<max(first, min(range.upperBound, rows.count))]
        let items = shown.map { row -> GitDashboardDTO in
            guard let i = row.committed else {
                return GitDashboardDTO(environmentId: env.id, environment: env.name, uuid: row.uuid, title: row.title, path: nil,
                                       drift: GitDriftStatus.uncommitted.rawValue, lastCommit: nil, committedAt: nil, checkedAt: nil)
            }
            let c = committed[i]
            return GitDashboardDTO(environmentId: env.id, environment: env.name, uuid: c.dashboardUUID, title: c.title, path: c.dir, drift: c.drift,
                                   lastCommit: c.commitSHA.isEmpty ? nil : c.commitSHA, committedAt: c.commitSHA.isEmpty ? nil : c.committedAt,
                                   checkedAt: c.checkedAt)
        }
        return (items, rows.count)
    }

    /// A committed record's columns the git list shows.
    struct CommittedRow: Decodable {
        var dashboardUUID: String, title: String, dir: String, drift: String, commitSHA: String, committedAt: Date, checkedAt: Date?
        enum CodingKeys: String, CodingKey {
            case dashboardUUID = "dashboard_uuid", title, dir, drift, commitSHA = "commit_sha", committedAt = "committed_at", checkedAt = "checked_at"
        }
    }

    /// How many dashboards of each environment are in sync, changed and uncommitted (as
    /// `dashboards` would list them): one read of the environments' committed records and a
    /// scan of the index, with no list built.
    static func driftCounts(environments: [UUID], inventory: InventoryIndex.Snapshot, on db: any Database)
        async throws -> [UUID: [GitDriftStatus: Int]] {
        guard !environments.isEmpty else { return [:] }
        var counts: [UUID: [GitDriftStatus: Int]] = [:]
        var committed: [UUID: Set<String>] = [:]
        for row in try await committedDrift(environments: environments, dashboards: nil, on: db) {
            committed[row.environmentID, default: []].insert(row.dashboardUUID)
            if let status = GitDriftStatus(rawValue: row.drift) { counts[row.environmentID, default: [:]][status, default: 0] += 1 }
        }
        let wanted = Set(environments)
        for item in inventory.byKind[AssetKind.dashboard.rawValue] ?? [] where wanted.contains(item.environmentID) {
            guard let uuid = item.uuid?.lowercased(), committed[item.environmentID]?.contains(uuid) != true else { continue }
            counts[item.environmentID, default: [:]][.uncommitted, default: 0] += 1
        }
        return counts
    }

    /// Drift by dashboard uuid for the given environments, for the dashboards hub's badges.
    /// With `dashboards` (uuids, lower-case), only those are read: a page of them, not every
    /// committed dashboard of the environments.
    static func driftByDashboard(environments: [UUID], dashboards: [String]? = nil, on db: any Database) async throws -> [String: GitDriftStatus] {
        guard !environments.isEmpty, dashboards?.isEmpty != true else { return [:] }
        var out: [String: GitDriftStatus] = [:]
        for row in try await committedDrift(environments: environments, dashboards: dashboards, on: db) {
            out[driftKey(environment: row.environmentID, dashboard: row.dashboardUUID)] = drift(stored: row.drift)
        }
        return out
    }

    /// How `driftByDashboard` keys a dashboard: `"<environment id> <uuid>"`, both lower-case.
    static func driftKey(environment: UUID, dashboard uuid: String) -> String { "\(environment.key) \(uuid.lowercased())" }

    /// A committed record's drift as stored; a value this version doesn't know reads as in sync.
    static func drift(stored: String) -> GitDriftStatus { GitDriftStatus(rawValue: stored) ?? .inSync }

    struct CommittedDrift: Decodable {
        var environmentID: UUID, dashboardUUID: String, drift: String
        enum CodingKeys: String, CodingKey { case environmentID = "environment_id", dashboardUUID = "dashboard_uuid", drift }
    }

    /// The committed records' environment, uuid and drift (three columns through SQLKit: a Fluent
    /// read reflected every row of the whole model), of `dashboards` only when given.
    private static func committedDrift(environments: [UUID], dashboards: [String]?, on db: any Database) async throws -> [CommittedDrift] {
        let select = TaskStore.sql(db).select().column("environment_id").column("dashboard_uuid").column("drift")
            .from(GitDashboardModel.schema).where("environment_id", .in, SQLBind.group(Array(Set(environments))))
        if let dashboards { select.where("dashboard_uuid", .in, SQLBind.group(Array(Set(dashboards)))) }
        return try await select.all(decoding: CommittedDrift.self)
    }

    /// The committed record of a dashboard, found by uuid, folder name (slug) or exact title;
    /// 404 saying how to get one when it was never committed.
    static func committed(_ dashboard: String, in env: EnvironmentRef, on db: any Database) async throws -> GitDashboardModel {
        let d = dashboard.trimmingCharacters(in: .whitespaces)
        guard !d.isEmpty, d.count <= 255 else {
            throw AppError.validation([FieldError(field: "dashboard", code: "required", key: "name_dashboard")])
        }
        let lower = d.lowercased()
        if UUID(uuidString: d) != nil, let row = try await GitHistory.row(environment: env.id, dashboard: lower, on: db) { return row }
        let rows = try await GitDashboardModel.query(on: db).filter(\.$environmentID == env.id).all()
        if let row = rows.first(where: { $0.dir.split(separator: "/").last.map(String.init) == lower }) ?? rows.first(where: { $0.title == d }) {
            return row
        }
        throw AppError(.notFound, code: "not_committed",
                       key: "not_committed", ["environment": env.name, "dashboard": d])
    }

    /// A page of a dashboard's revisions, newest first.
    static func history(_ row: GitDashboardModel, env: EnvironmentRef, git: GitHistory, paging: Paging) async throws -> GitHistoryDTO {
        let revisions = try await git.history(of: row, limit: paging.range.count, skip: paging.range.lowerBound)
        return GitHistoryDTO(dashboard: GitDashboardDTO(row, environment: env.name), revisions: revisions.map(GitRevisionDTO.init),
                             page: paging.page, perPage: paging.perPage)
    }

    /// One side of a comparison: a revision (sha, `HEAD`, `HEAD~n`) or `live`.
    enum Side: Sendable, Equatable {
        case revision(String)
        case live

        /// Parses what a request says, or throws 422 naming `field`.
        static func parse(_ text: String?, field: String, default fallback: Side) throws -> Side {
            let t = text?.trimmingCharacters(in: .whitespaces) ?? ""
            if t.isEmpty { return fallback }
            if t.lowercased() == "live" { return .live }
            guard GitRepository.isRevision(t) else {
                throw AppError.validation([FieldError(field: field, code: "invalid", key: "revision_or_live")])
            }
            return .revision(t)
        }
    }

    /// Compares a dashboard between two sides, each in an environment (the same one, or dev
    /// against prod: a dashboard keeps its uuid across environments Ferry promotes between).
    /// `client` gives a logged-in Superset client for a live side (one export of the dashboard).
    static func diff(dashboard row: GitDashboardModel, from: (env: EnvironmentRef, side: Side), to: (env: EnvironmentRef, side: Side), git: GitHistory,
                     client: @Sendable (UUID) async throws -> SupersetClient, on db: any Database) async throws -> GitDiffDTO {
        let uuid = row.dashboardUUID
        func load(_ env: EnvironmentRef, _ side: Side, field: String) async throws -> (files: [String: Data], side: GitSideDTO) {
            switch side {
            case .live:
                let files: [String: Data]?
                do { files = try await GitHistory.liveFiles(dashboard: uuid, client: try await client(env.id)) } catch let e as SupersetError {
                    throw AppError.superset(e, environment: env.name)
                }
                guard let files else {
                    throw AppError(.notFound, code: "not_in_superset", key: "not_in_superset", ["environment": env.name, "title": row.title, "uuid": "\(uuid)"])
                }
                return (files, GitSideDTO(environmentId: env.id, environment: env.name, revision: nil, label: "\(env.name) (live)"))
            case .revision(let rev):
                let envRow = env.id == row.environmentID ? row : try await GitHistory.row(environment: env.id, dashboard: uuid, on: db)
                // HEAD~n counts the dashboard's own revisions (its history page's rows), not the
                // repository's commits (other dashboards' and environments' too).
                let sha: String?
                if rev.hasPrefix("HEAD~"), let n = Int(rev.dropFirst(5)), let envRow {
                    sha = try await git.history(of: envRow, limit: 1, skip: n).first?.sha
                } else {
                    sha = try await git.repository.resolve(rev)
                }
                guard let sha else {
                    throw AppError.validation([rev.hasPrefix("HEAD~")
                        ? FieldError(field: field, code: "unknown", key: "fewer_revisions", ["n": rev.dropFirst(5).count > 0 ? String(rev.dropFirst(5)) : "0", "environment": env.name])
                        : FieldError(field: field, code: "unknown", key: "no_commit", ["revision": rev])])
                }
                let files = try await git.files(environment: env.id, dashboard: uuid, dir: envRow?.dir, at: sha, on: db)
                guard !files.isEmpty else {
                    throw AppError(.notFound, code: "not_in_revision",
                                   key: "not_in_revision", ["sha": String(sha.prefix(12)), "title": row.title, "environment": env.name])
                }
                return (files, GitSideDTO(environmentId: env.id, environment: env.name, revision: sha, label: "\(env.name) @ \(sha.prefix(12))"))
            }
        }
        if let fast = try await revisionsOfOneFolder(row: row, from: from, to: to, git: git) { return fast }
        let old = try await load(from.env, from.side, field: "from")
        let new = try await load(to.env, to.side, field: "to")
        let diff = try await git.compare(old.files, new.files, oldLabel: label(old.side), newLabel: label(new.side))
        return GitDiffDTO(dashboard: uuid, title: row.title, from: old.side, to: new.side, identical: diff.identical, files: diff.files,
                          unified: String(diff.unified.prefix(2_000_000)))
    }

    /// Two revisions (full shas, as the pages and history give them) of a dashboard in its
    /// current folder: one `git diff` of the folder and one `cat-file` of the files it names
    /// (and `dashboard.yaml` on both sides, to check they are this dashboard's). Nil when that
    /// doesn't apply (a short sha, `HEAD~n`, another environment, another folder then), and the
    /// general comparison runs.
    private static func revisionsOfOneFolder(row: GitDashboardModel, from: (env: EnvironmentRef, side: Side), to: (env: EnvironmentRef, side: Side),
                                             git: GitHistory) async throws -> GitDiffDTO? {
        guard from.env.id == row.environmentID, to.env.id == row.environmentID, case .revision(let a) = from.side, case .revision(let b) = to.side,
              GitRepository.isFullSHA(a), GitRepository.isFullSHA(b) else { return nil }
        let a40 = a.lowercased(), b40 = b.lowercased(), dir = row.dir
        let out = try await git.repository.git(["diff", "--no-color", "--no-ext-diff", "--no-renames", "--end-of-options", a40, b40, "--", dir], allow: [128])
        guard out.status == 0 else { return nil }  // an unknown commit: the general path names it
        let unified = out.text
        var changed: [String] = []
        for line in unified.split(separator: "\n") where line.hasPrefix("diff --git a/") {
            // "diff --git a/<path> b/<path>": Ferry's paths hold no spaces.
            let parts = line.split(separator: " ")
            if parts.count == 4 { changed.append(String(parts[2].dropFirst(2))) }
        }
        let inside = changed.filter { $0.hasPrefix(dir + "/") }
        let dashboardPath = dir + "/" + GitLayout.dashboardFile
        let paths = Array(Set(inside + [dashboardPath]))
        let contents = try await git.repository.read(paths.flatMap { [(a40, $0), (b40, $0)] })
        for sha in [a40, b40] {
            guard let file = contents["\(sha):\(dashboardPath)"],
                  (try? Asset(kind: .dashboard, file: file, path: GitLayout.dashboardFile))?.uuid.lowercased() == row.dashboardUUID else { return nil }
        }
        func side(_ sha: String) -> [String: Data] {
            Dictionary(uniqueKeysWithValues: paths.compactMap { p in contents["\(sha):\(p)"].map { (String(p.dropFirst(dir.count + 1)), $0) } })
        }
        let files = GitHistory.structuredDiff(side(a40), side(b40))
        let env = from.env
        return GitDiffDTO(dashboard: row.dashboardUUID, title: row.title,
                          from: GitSideDTO(environmentId: env.id, environment: env.name, revision: a40, label: "\(env.name) @ \(a40.prefix(12))"),
                          to: GitSideDTO(environmentId: env.id, environment: env.name, revision: b40, label: "\(env.name) @ \(b40.prefix(12))"),
                          identical: files.isEmpty, files: files, unified: String(unified.prefix(2_000_000)))
    }

    /// A path-safe prefix for the unified diff's file names.
    private static func label(_ side: GitSideDTO) -> String {
        GitLayout.slug(side.environment) + "@" + (side.revision.map { String($0.prefix(12)) } ?? "live")
    }
}
