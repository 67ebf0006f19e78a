import Fluent
import Foundation
import SupersetKit

/// Ferry's git history of every environment: canonical files committed from backups (which
/// every backup, snapshot, promotion and restore ends with), read back as revisions and diffs,
/// and deployed through the promotion pipeline.
///
/// Side effects: files and commits in `repository`; `git_environments` and `git_dashboards`
/// rows. Every write happens inside `repository.exclusive`.
struct GitHistory: Sendable {
    let repository: GitRepository
    let storage: BackupStorage
    /// Pushes after each commit when the remote says so.
    var remote: GitRemoteStore?

    /// What one commit changed.
    struct CommitResult: Sendable {
        var sha: String?
        var message: String
        var changed: [String]
        var added: [String]
        var removed: [String]
        var connections: Int
        var pushed: Bool?
    }

    // MARK: Committing

    /// Records an environment's state, as one complete backup manifest lists it, as the
    /// environment's folder; commits when anything changed. Only dashboards whose stored files
    /// changed since the last commit (by `contentKey`) are rewritten, so a commit costs what
    /// changed. Rows are updated after the commit, so a crash before it leaves them describing
    /// the last real commit (and the next run rewrites the same files).
    func commit(environment: EnvironmentRef, assets: [BackupManifest.Entry], author: GitAuthor, taskID: UUID?, now: Date,
                on db: any Database, log: @Sendable (String) -> Void = { _ in }) async throws -> CommitResult {
        try await repository.exclusive {
            let envDir = try await Self.folder(of: environment, create: true, on: db)!
            let rows = try await GitDashboardModel.query(on: db).filter(\.$environmentID == environment.id).all()
            let plan = try await storage.offload { [repository, storage] in
                try Self.writeFiles(root: repository.root, envDir: envDir, environment: environment, assets: assets, rows: rows, storage: storage)
            }
            let changes = try await repository.stage([envDir])
            let summary = Self.summarize(changes, envDir: envDir, environment: environment.name, titles: plan.titles)
            var sha: String?
            if !changes.isEmpty {
                var trailers = [("Ferry-Environment", environment.id.key)]
                if let taskID { trailers.append(("Ferry-Task", taskID.key)) }
                sha = try await repository.commit(message: summary.message, author: author, trailers: trailers)
                log("committed \(sha!.prefix(12)): \(summary.message.split(separator: "\n").first ?? "")")
            } else {
                log("nothing changed since the last commit of \(environment.name)")
            }
            try await Self.record(plan, environment: environment.id, sha: sha, changedDirs: summary.dirs, now: now, on: db)
            return CommitResult(sha: sha, message: summary.message, changed: summary.changed, added: summary.added, removed: summary.removed,
                                connections: summary.connections)
        }
    }

    /// An environment's folder; chosen from its name on first use (unique, `create`), then kept.
    static func folder(of environment: EnvironmentRef, create: Bool, on db: any Database) async throws -> String? {
        if let row = try await GitEnvironmentModel.query(on: db).filter(\.$environmentID == environment.id).first() { return row.dir }
        guard create else { return nil }
        let taken = Set(try await GitEnvironmentModel.query(on: db).all().map(\.dir))
        let base = GitLayout.slug(environment.name)
        var dir = base
        var n = 2
        while taken.contains(dir) { dir = "\(base)-\(n)"; n += 1 }
        let row = GitEnvironmentModel()
        row.environmentID = environment.id
        row.dir = dir
        try await row.create(on: db)
        return dir
    }

    /// What `writeFiles` decided, to be recorded once the commit is made.
    struct WritePlan: Sendable {
        struct Dashboard: Sendable {
            var uuid: String
            var title: String
            var dir: String
            var contentKey: String
            var changedKey: String
            var members: [String]
        }
        var dashboards: [Dashboard]
        var removed: [UUID]
        /// Folder -> title, for the commit message (removed dashboards included).
        var titles: [String: String]
    }

    /// Writes the environment's folder from the manifest's assets. Runs on the storage's thread
    /// pool (blob reads, YAML, file writes).
    static func writeFiles(root: URL, envDir: String, environment: EnvironmentRef, assets: [BackupManifest.Entry], rows: [GitDashboardModel],
                           storage: BackupStorage) throws -> WritePlan {
        let fm = FileManager.default
        let envURL = root.appendingPathComponent(envDir)
        try fm.createDirectory(at: envURL.appendingPathComponent("dashboards"), withIntermediateDirectories: true)
        try fm.createDirectory(at: envURL.appendingPathComponent("databases"), withIntermediateDirectories: true)
        try writeIfChanged(Data("# Written by Ferry: this folder is the environment's state, one commit per backup or promotion.\nid: \(environment.id.key)\nname: \(environment.name.debugDescription)\n".utf8),
                           to: envURL.appendingPathComponent(GitLayout.environmentFile))

        // Only assets named by a real uuid: a uuid becomes a folder or file name, so anything
        // else (a hostile server's `../..`) never reaches the disk.
        let assets = assets.filter { UUID(uuidString: $0.uuid) != nil }
        var byUUID: [String: BackupManifest.Entry] = [:]
        for e in assets where e.kind != .database { byUUID[e.uuid] = e }
        let rowByUUID = Dictionary(rows.map { ($0.dashboardUUID, $0) }, uniquingKeysWith: { a, _ in a })
        var usedDirs = Set(rows.map(\.dir))
        var plan = WritePlan(dashboards: [], removed: [], titles: [:])

        func read(_ e: BackupManifest.Entry) throws -> Asset {
            do { return try Asset(kind: e.kind, file: storage.blob(e.hash), path: "\(e.kind.folder)/\(e.uuid).yaml") } catch let f as BackupStorage.Failure {
                throw BackupStorage.Failure(message: "\(e.kind.rawValue) '\(e.name)': \(f.message)", next: f.next)
            }
        }

        for d in assets where d.kind == .dashboard {
            let charts = d.refs.compactMap { byUUID[$0] }.filter { $0.kind == .chart }
            var datasets = d.refs.compactMap { byUUID[$0] }.filter { $0.kind == .dataset }
            for c in charts { datasets += c.refs.compactMap { byUUID[$0] }.filter { $0.kind == .dataset } }
            var seen = Set<String>()
            let members = (charts + datasets).filter { seen.insert($0.uuid).inserted }
            let contentKey = Checksum.sha256Hex(([d.hash] + members.map(\.hash).sorted()).joined(separator: "\n"))
            let changedKey = Self.changedKey(([d] + members).map { ($0.uuid, $0.changedOnText) })
            let row = rowByUUID[d.uuid]
            var dir = row?.dir ?? ""
            let fileURL = { root.appendingPathComponent(dir).appendingPathComponent(GitLayout.dashboardFile) }
            if let row, row.contentKey == contentKey, fm.fileExists(atPath: fileURL().path) {
                // Unchanged: nothing to write.
            } else {
                let dashboard = try read(d)
                if row == nil {
                    let name = GitLayout.dashboardFolder(slug: dashboard.string("slug"), uuid: d.uuid)
                    dir = "\(envDir)/dashboards/\(name)"
                    if usedDirs.contains(dir) { dir += "-\(GitLayout.short(d.uuid))" }
                    usedDirs.insert(dir)
                }
                let files = try GitLayout.files(dashboard: dashboard, members: try members.map(read))
                try replaceFolder(root.appendingPathComponent(dir), with: files, inside: envURL)
            }
            plan.titles[dir] = d.name
            plan.dashboards.append(.init(uuid: d.uuid, title: d.name, dir: dir, contentKey: contentKey, changedKey: changedKey,
                                         members: members.map(\.uuid)))
        }
        // Dashboards deleted in Superset leave the folder (their history stays in git).
        let live = Set(assets.filter { $0.kind == .dashboard }.map(\.uuid))
        for row in rows where !live.contains(row.dashboardUUID) {
            if isStrictly(root.appendingPathComponent(row.dir), inside: envURL.appendingPathComponent("dashboards")) {
                try? fm.removeItem(at: root.appendingPathComponent(row.dir))
            }
            plan.titles[row.dir] = row.title
            if let id = row.id { plan.removed.append(id) }
        }
        // Connections: all of them, passwords masked (the backup stores them masked already).
        var files: [String: Data] = [:]
        for e in assets where e.kind == .database {
            files[GitLayout.file(kind: .database, name: e.name, uuid: e.uuid)] = try CanonicalAsset.file(of: try read(e).withoutSecrets)
        }
        try replaceFolder(envURL.appendingPathComponent("databases"), with: files, inside: envURL)
        return plan
    }

    /// Fingerprint of the `changed_on` values Superset reported for a dashboard and its members.
    static func changedKey(_ values: [(uuid: String, changedOn: String?)]) -> String {
        Checksum.sha256Hex(values.map { "\($0.uuid)@\($0.changedOn ?? "")" }.sorted().joined(separator: "\n"))
    }

    /// Whether `url` lies strictly inside `folder`, symbolic links resolved (a folder or file
    /// Ferry writes can never be, or lead, outside the environment's folder).
    static func isStrictly(_ url: URL, inside folder: URL) -> Bool {
        let base = folder.resolvingSymlinksInPath().standardizedFileURL.path + "/"
        let path = url.resolvingSymlinksInPath().standardizedFileURL.path
        return path.hasPrefix(base) && path.count > base.count
    }

    /// Makes `folder` hold exactly `files` (relative paths), writing only what differs. Refuses
    /// a folder outside `inside`, or a file path that would leave `folder`.
    static func replaceFolder(_ folder: URL, with files: [String: Data], inside: URL) throws {
        let fm = FileManager.default
        guard isStrictly(folder, inside: inside), files.keys.allSatisfy({ isStrictly(folder.appendingPathComponent($0), inside: folder) }) else {
            throw GitFailure(key: "outside_folder", ["folder": folder.path, "root": inside.path])
        }
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        if let walker = fm.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) {
            let prefix = folder.standardizedFileURL.path + "/"
            for case let url as URL in walker {
                let path = url.standardizedFileURL.path
                guard path.hasPrefix(prefix), (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                if files[String(path.dropFirst(prefix.count))] == nil { try fm.removeItem(at: url) }
            }
        }
        for (relative, data) in files {
            let url = folder.appendingPathComponent(relative)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try writeIfChanged(data, to: url)
        }
    }

    /// Writes a regular file; a symbolic link in its place is replaced, never followed.
    static func writeIfChanged(_ data: Data, to url: URL) throws {
        let fm = FileManager.default
        if let type = try? fm.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType, type == .typeSymbolicLink {
            try fm.removeItem(at: url)
        } else if fm.contents(atPath: url.path) == data {
            return
        }
        try data.write(to: url)
    }

    /// The commit message and what it names.
    struct Summary: Sendable {
        var message: String
        var changed: [String], added: [String], removed: [String]
        var connections: Int
        var dirs: Set<String>
    }

    static func summarize(_ changes: [GitChange], envDir: String, environment: String, titles: [String: String]) -> Summary {
        var added: [String: String] = [:], removed: [String: String] = [:], changed: [String: String] = [:]
        var connections = Set<String>()
        var dirs = Set<String>()
        let dashboards = envDir + "/dashboards/"
        for c in changes {
            if c.path.hasPrefix(dashboards) {
                let rest = c.path.dropFirst(dashboards.count)
                guard let slash = rest.firstIndex(of: "/") else { continue }
                let dir = dashboards + rest[..<slash]
                dirs.insert(dir)
                let title = titles[dir] ?? String(rest[..<slash])
                let isDashboardFile = rest[rest.index(after: slash)...] == GitLayout.dashboardFile
                if isDashboardFile && c.kind == .added { added[dir] = title; changed[dir] = nil }
                else if isDashboardFile && c.kind == .deleted { removed[dir] = title; changed[dir] = nil }
                else if added[dir] == nil && removed[dir] == nil { changed[dir] = title }
            } else if c.path.hasPrefix(envDir + "/databases/") {
                connections.insert(c.path)
            }
        }
        func phrase(_ names: [String], _ verb: String) -> String? {
            guard !names.isEmpty else { return nil }
            let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
            return "\(names.count) dashboard\(names.count == 1 ? "" : "s") \(verb): \(shown)"
        }
        let c = changed.values.sorted(), a = added.values.sorted(), r = removed.values.sorted()
        var parts = [phrase(c, "changed"), phrase(a, "added"), phrase(r, "removed")].compactMap { $0 }
        if !connections.isEmpty { parts.append("\(connections.count) connection\(connections.count == 1 ? "" : "s") changed") }
        var message = "\(environment): " + (parts.isEmpty ? "environment details changed" : parts.joined(separator: "; "))
        let lists = [("Changed", c), ("Added", a), ("Removed", r)].filter { !$0.1.isEmpty }
        if !lists.isEmpty {
            message += "\n\n" + lists.map { label, names in "\(label):\n" + names.map { "- \($0)" }.joined(separator: "\n") }.joined(separator: "\n\n")
        }
        return Summary(message: message, changed: c, added: a, removed: r, connections: connections.count, dirs: dirs)
    }

    /// Brings the rows in line with what was just written (and committed, when `sha` is set).
    static func record(_ plan: WritePlan, environment: UUID, sha: String?, changedDirs: Set<String>, now: Date, on db: any Database) async throws {
        let rows = try await GitDashboardModel.query(on: db).filter(\.$environmentID == environment).all()
        let byUUID = Dictionary(rows.map { ($0.dashboardUUID, $0) }, uniquingKeysWith: { a, _ in a })
        try await db.transaction { db in
            if !plan.removed.isEmpty { try await GitDashboardModel.query(on: db).filter(\.$id ~~ plan.removed).delete() }
            for d in plan.dashboards {
                let row = byUUID[d.uuid] ?? GitDashboardModel()
                let members = String(decoding: try JSONEncoder().encode(d.members), as: UTF8.self)
                let touched = row.id == nil || changedDirs.contains(d.dir)
                guard touched || row.contentKey != d.contentKey || row.changedKey != d.changedKey || row.drift != GitDriftStatus.inSync.rawValue
                        || row.title != d.title || row.members != members else { continue }
                row.environmentID = environment
                row.dashboardUUID = d.uuid
                row.title = d.title
                row.dir = d.dir
                row.contentKey = d.contentKey
                row.changedKey = d.changedKey
                row.members = members
                if touched, let sha { row.commitSHA = sha; row.committedAt = now }
                if row.id == nil && sha == nil { row.commitSHA = ""; row.committedAt = now }
                row.drift = GitDriftStatus.inSync.rawValue
                row.checkedAt = now
                try await row.save(on: db)
            }
        }
    }
}

/// Whether a dashboard in Superset still matches what Ferry last committed of it.
enum GitDriftStatus: String, Codable, Sendable, CaseIterable {
    /// Unchanged since the last commit (as of the last commit or drift check).
    case inSync = "in_sync"
    /// Superset changed it (or one of its charts or datasets) after the last commit.
    case changed
    /// Never committed: no backup or snapshot has seen it yet.
    case uncommitted
}
