import Fluent
import Foundation
import SupersetKit

/// One file's differences between two states of a dashboard, field by field.
struct GitFileDiff: Codable, Sendable, Equatable {
    enum Status: String, Codable, Sendable { case added, removed, changed }
    /// Inside the dashboard's folder (`charts/revenue-1a2b3c4d.yaml`).
    var path: String
    var kind: AssetKind
    var name: String
    var status: Status
    var fields: [GitFieldDiff]
}

/// One field that differs: `dashboard_title`, `params.adhoc_filters`, `sql`,
/// `metadata.native_filter_configuration`... Values as text (scalars as they are, lists and maps
/// as sorted JSON); nil where the field is absent.
struct GitFieldDiff: Codable, Sendable, Equatable {
    var field: String
    var old: String?
    var new: String?
}

/// Two states of one dashboard compared: the structured differences and a unified diff.
struct GitDashboardDiff: Sendable {
    var files: [GitFileDiff]
    var unified: String
    var identical: Bool { files.isEmpty }
}

extension GitHistory {
    /// Why a read of the history can't be answered, in the operator's words.
    struct ReadFailure: Error, Sendable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The committed record of a dashboard in an environment, or nil when none was ever made.
    static func row(environment: UUID, dashboard uuid: String, on db: any Database) async throws -> GitDashboardModel? {
        if let row = try await GitDashboardModel.query(on: db).filter(\.$environmentID == environment).filter(\.$dashboardUUID == uuid.lowercased()).first() {
            return row
        }
        return try await GitDashboardModel.query(on: db).filter(\.$environmentID == environment).filter(\.$dashboardUUID == uuid).first()
    }

    /// The commits that changed a dashboard's folder, newest first.
    func history(of row: GitDashboardModel, limit: Int, skip: Int) async throws -> [GitRevision] {
        try await repository.log(path: row.dir, limit: limit, skip: skip)
    }

    /// The files of a dashboard (by path inside its folder) at commit `sha`: from the folder the
    /// dashboard has now, or, when it lived elsewhere then, the folder whose `dashboard.yaml`
    /// names its uuid. Empty when the commit doesn't hold it.
    func files(environment: UUID, dashboard uuid: String, dir: String?, at sha: String, on db: any Database) async throws -> [String: Data] {
        if let dir, let found = try await filesIfTheirs(dir: dir, uuid: uuid, at: sha) { return found }
        guard let envDir = try await GitEnvironmentModel.query(on: db).filter(\.$environmentID == environment).first()?.dir else { return [:] }
        for path in try await repository.grep(uuid, at: sha, under: "\(envDir)/dashboards/") where path.hasSuffix("/" + GitLayout.dashboardFile) {
            let folder = String(path.dropLast(GitLayout.dashboardFile.count + 1))
            if let found = try await filesIfTheirs(dir: folder, uuid: uuid, at: sha) { return found }
        }
        return [:]
    }

    private func filesIfTheirs(dir: String, uuid: String, at sha: String) async throws -> [String: Data]? {
        let paths = try await repository.files(at: sha, under: dir + "/")
        guard paths.contains(dir + "/" + GitLayout.dashboardFile) else { return nil }
        let contents = try await repository.read(paths, at: sha)
        guard let dashboard = contents[dir + "/" + GitLayout.dashboardFile],
              (try? Asset(kind: .dashboard, file: dashboard, path: GitLayout.dashboardFile))?.uuid.lowercased() == uuid.lowercased() else { return nil }
        return Dictionary(uniqueKeysWithValues: contents.map { (String($0.key.dropFirst(dir.count + 1)), $0.value) })
    }

    /// The canonical files of a dashboard as Superset has it now (one export).
    static func liveFiles(dashboard uuid: String, client: SupersetClient) async throws -> [String: Data]? {
        guard let ref = try await client.dashboardRefs().first(where: { $0.uuid.lowercased() == uuid.lowercased() }) else { return nil }
        let bundle = try await client.export(.dashboard, ids: [ref.id], concurrency: 1)
        guard let dashboard = bundle.dashboards.first(where: { $0.uuid.lowercased() == uuid.lowercased() }) else { return nil }
        var members: [Asset] = []
        var seen = Set<String>()
        for ref in dashboard.references {
            if let chart = bundle.asset(.chart, uuid: ref), seen.insert(ref).inserted {
                members.append(chart)
                for d in chart.references { if let ds = bundle.asset(.dataset, uuid: d), seen.insert(d).inserted { members.append(ds) } }
            } else if let ds = bundle.asset(.dataset, uuid: ref), seen.insert(ref).inserted {
                members.append(ds)
            }
        }
        return try GitLayout.files(dashboard: dashboard, members: members)
    }

    // MARK: Comparing

    /// Compares two states of a dashboard (files by path inside its folder).
    func compare(_ old: [String: Data], _ new: [String: Data], oldLabel: String, newLabel: String) async throws -> GitDashboardDiff {
        GitDashboardDiff(files: Self.structuredDiff(old, new), unified: try await unifiedDiff(old, new, oldLabel: oldLabel, newLabel: newLabel))
    }

    /// Field-by-field differences, files in path order.
    static func structuredDiff(_ old: [String: Data], _ new: [String: Data]) -> [GitFileDiff] {
        var out: [GitFileDiff] = []
        for path in Set(old.keys).union(new.keys).sorted() {
            let a = old[path], b = new[path]
            if a == b { continue }
            let kind = GitLayout.kind(ofFile: path) ?? .dataset
            let assetA = a.flatMap { try? Asset(kind: kind, file: $0, path: path) }
            let assetB = b.flatMap { try? Asset(kind: kind, file: $0, path: path) }
            let fieldsA = assetA.map { flatten(.map($0.fields)) } ?? [:]
            let fieldsB = assetB.map { flatten(.map($0.fields)) } ?? [:]
            var fields: [GitFieldDiff] = []
            for key in Set(fieldsA.keys).union(fieldsB.keys).sorted() where fieldsA[key] != fieldsB[key] {
                fields.append(GitFieldDiff(field: key, old: fieldsA[key], new: fieldsB[key]))
            }
            let status: GitFileDiff.Status = a == nil ? .added : b == nil ? .removed : .changed
            if status == .changed && fields.isEmpty { continue }  // formatting only
            out.append(GitFileDiff(path: path, kind: kind, name: (assetB ?? assetA)?.name ?? path, status: status, fields: fields))
        }
        return out
    }

    /// Fields of an asset by dotted path, maps opened three levels deep (`metadata.native_filter_configuration`,
    /// `params.adhoc_filters`, `position.CHART-abc`), lists and deeper maps kept whole.
    static func flatten(_ value: BundleValue, prefix: String = "", depth: Int = 0, into out: inout [String: String]) {
        if case .map(let m) = value, depth < 3, !m.isEmpty {
            for (k, v) in m { flatten(v, prefix: prefix.isEmpty ? k : "\(prefix).\(k)", depth: depth + 1, into: &out) }
            return
        }
        switch value {
        case .string(let s): out[prefix] = s
        case .null: out[prefix] = "null"
        case .list, .map: out[prefix] = value.prettyJSONText()
        default: out[prefix] = value.jsonText()
        }
    }

    static func flatten(_ value: BundleValue) -> [String: String] {
        var out: [String: String] = [:]
        flatten(value, into: &out)
        return out
    }

    /// `git diff --no-index` of the two states written side by side in a temporary folder.
    func unifiedDiff(_ old: [String: Data], _ new: [String: Data], oldLabel: String, newLabel: String) async throws -> String {
        let fm = FileManager.default
        let tmp = storage.root.appendingPathComponent("tmp").appendingPathComponent("diff-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: tmp) }
        for (side, files) in [("a", old), ("b", new)] {
            try fm.createDirectory(at: tmp.appendingPathComponent(side), withIntermediateDirectories: true)
            for (path, data) in files {
                let url = tmp.appendingPathComponent(side).appendingPathComponent(path)
                guard url.standardizedFileURL.path.hasPrefix(tmp.appendingPathComponent(side).standardizedFileURL.path + "/") else { continue }
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: url)
            }
        }
        let out = try await repository.cli.run(["diff", "--no-index", "--no-color", "--no-ext-diff", "--src-prefix=\(oldLabel)/", "--dst-prefix=\(newLabel)/", "--", "a", "b"],
                                               GitRunOptions(directory: tmp, timeout: 60))
        guard out.status <= 1 else { throw GitFailure(key: "git_failed", nextKey: "git_read_failed", ["command": "diff", "output": String(out.errorText.prefix(300))]) }
        // Paths read `<label>/a/charts/x.yaml`: drop the side folder.
        return out.text.replacingOccurrences(of: "\(oldLabel)/a/", with: "\(oldLabel)/").replacingOccurrences(of: "\(newLabel)/b/", with: "\(newLabel)/")
    }

    // MARK: Deploying

    /// The importable bundle of `dashboards` (uuids) as commit `sha` holds them in the
    /// environment's folder, with the connections their datasets use. Throws `ReadFailure`
    /// naming a dashboard the commit doesn't hold or a file that doesn't parse.
    func bundle(environment: UUID, dashboards: [String], at sha: String, on db: any Database) async throws -> AssetBundle {
        var bundle = AssetBundle()
        var databaseUUIDs = Set<String>()
        for uuid in dashboards {
            let row = try await Self.row(environment: environment, dashboard: uuid, on: db)
            let files = try await files(environment: environment, dashboard: uuid, dir: row?.dir, at: sha, on: db)
            guard !files.isEmpty else {
                throw ReadFailure(message: "Revision \(sha.prefix(12)) holds no dashboard \(row?.title ?? uuid) in this environment's history.")
            }
            for (path, data) in files.sorted(by: { $0.key < $1.key }) {
                guard let kind = GitLayout.kind(ofFile: path) else { continue }
                let canonical: Asset
                do { canonical = try Asset(kind: kind, file: data, path: path) } catch {
                    throw ReadFailure(message: "\(path) at revision \(sha.prefix(12)) can't be read: \(error)")
                }
                let asset = CanonicalAsset.importable(kind: kind, fields: canonical.fields)
                if let db = asset.databaseUUID { databaseUUIDs.insert(db) }
                bundle.insert(asset)
            }
        }
        if let envDir = try await GitEnvironmentModel.query(on: db).filter(\.$environmentID == environment).first()?.dir {
            let paths = try await repository.files(at: sha, under: "\(envDir)/databases/")
            for (path, data) in try await repository.read(paths, at: sha) {
                guard let asset = try? Asset(kind: .database, file: data, path: path), databaseUUIDs.contains(asset.uuid) else { continue }
                bundle.insert(CanonicalAsset.importable(kind: .database, fields: asset.fields))
            }
        }
        return bundle
    }
}

extension BundleValue {
    /// Indented JSON with sorted keys, for people reading a diff.
    func prettyJSONText(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .list(let l) where !l.isEmpty:
            return "[\n" + l.map { inner + $0.prettyJSONText(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .map(let m) where !m.isEmpty:
            return "{\n" + m.keys.sorted().map { inner + BundleValue.string($0).jsonText() + ": " + m[$0]!.prettyJSONText(indent: inner) }.joined(separator: ",\n")
                + "\n" + indent + "}"
        default:
            return jsonText()
        }
    }
}
