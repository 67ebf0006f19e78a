import Fluent
import Foundation
import SupersetKit

/// The remote's tasks touch the whole history, so they touch (and are judged on) every
/// environment: a grant limited to some environments can't push or pull the others' files.
private func everyEnvironment(on db: any Database) async throws -> TaskScope {
    // Judged on every environment, but holding none of their task slots: a pull waiting for an
    // answer must not stop backups and promotions (the repository lock orders git's work).
    TaskScope(touches: [], authorizedOn: try await EnvironmentModel.query(on: db).all().compactMap(\.id))
}

private func configuredRemote(_ git: GitHistory, on db: any Database) async throws -> (GitRemoteStore, GitRemoteSettings) {
    guard let store = git.remote else {
        throw TaskFailure(key: "no_git_remote_support")
    }
    let settings = try await store.load(on: db)
    guard settings.isConfigured else {
        throw TaskFailure(key: "no_git_remote")
    }
    return (store, settings)
}

/// `git.push`: pushes Ferry's history to the remote's branch (never forced).
struct GitPushPlugin: Plugin {
    let id = "git.push"
    let name = "Push git history"
    let description = "Pushes Ferry's git history to the configured remote (never forced; a remote with other commits asks for a pull first)."
    let version = "1.0.0"
    let permission = Permission.gitWrite.rawValue
    let paramsSchema = JSONSchema(json: #"{"type": "object", "additionalProperties": false, "properties": {}}"#)
    var environmentParams: [String] { [] }
    let git: GitHistory

    func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope { try await everyEnvironment(on: db) }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let (store, settings) = try await configuredRemote(git, on: context.db)
        try await context.step(key: "pushing", ["remote": settings.url], progress: 20)
        guard let head = try await git.repository.head() else {
            throw TaskFailure(key: "history_empty")
        }
        do {
            try await git.repository.exclusive { try await store.push(git.repository, settings: settings) }
        } catch let f as GitFailure { throw f.taskFailure }
        context.log(.info, "pushed \(head.prefix(12)) to \(settings.url) (\(settings.branch))", source: "git")
        try await context.step(key: "pushed", progress: 100)
        return .succeeded(.map(["commit": .string(head), "branch": .string(settings.branch)]))
    }
}

/// `git.pull`: brings the remote's commits into Ferry's history. A fast-forward or a clean merge
/// happens at once; when both sides changed the same files the task waits for the operator to
/// pick, per file, Ferry's version or the remote's, or to abort (nothing merged, and the
/// remote's commits stay fetched under `refs/remotes/ferry/`). Nothing is lost either way.
struct GitPullPlugin: Plugin {
    let id = "git.pull"
    let name = "Pull git history"
    let description = "Fetches the remote's commits and merges them into Ferry's git history, asking how to settle files both sides changed."
    let version = "1.0.0"
    let permission = Permission.gitWrite.rawValue
    let paramsSchema = JSONSchema(json: #"{"type": "object", "additionalProperties": false, "properties": {}}"#)
    var environmentParams: [String] { [] }
    let git: GitHistory

    /// Conflicting files asked about one by one; above this, one choice for all of them.
    static let maxFilesAsked = 100

    func scope(of params: BundleValue, on db: any Database) async throws -> TaskScope { try await everyEnvironment(on: db) }

    enum Step: Sendable {
        case upToDate, fastForward(String), merged(String), conflicts([String])
    }

    func run(_ context: TaskContext) async throws -> PluginOutcome {
        let (store, settings) = try await configuredRemote(git, on: context.db)
        let repo = git.repository
        let theirs = "refs/remotes/ferry/\(settings.branch)"
        try await context.step(key: "fetching", ["remote": settings.url], progress: 10)
        let exists: Bool
        do { exists = try await repo.exclusive { try await store.fetch(repo, settings: settings) } } catch let f as GitFailure { throw f.taskFailure }
        guard exists else {
            context.log(.info, "the remote has no branch \(settings.branch) yet; a push creates it", source: "git")
            try await context.step(key: "nothing_to_pull", progress: 100)
            return .succeeded(.map(["result": .string("remote_empty")]))
        }
        var answers: [String: String]? = nil
        for _ in 0..<3 {
            try await context.step(key: "merging", ["branch": settings.branch], progress: 40)
            let step: Step
            do { step = try await repo.exclusive { try await merge(theirs: theirs, answers: answers, context: context) } } catch let f as GitFailure { throw f.taskFailure }
            switch step {
            case .upToDate:
                try await context.step(key: "up_to_date", progress: 100)
                return .succeeded(.map(["result": .string("up_to_date")]))
            case .fastForward(let sha), .merged(let sha):
                let kind = if case .merged = step { "merged" } else { "fast_forward" }
                context.log(.info, "\(kind == "merged" ? "merged" : "fast-forwarded to") \(sha.prefix(12))", source: "git")
                if settings.pushAfterCommit {
                    do {
                        try await repo.exclusive { try await store.push(repo, settings: settings) }
                        context.log(.info, "pushed the result to \(settings.url)", source: "git")
                    } catch let f as GitFailure { context.log(.error, "push failed: \(f.message) \(f.next)", source: "git") }
                }
                try await context.step(key: "pulled", progress: 100)
                return .succeeded(.map(["result": .string(kind), "commit": .string(sha), "resolved": .int(answers?.count ?? 0)]))
            case .conflicts(let files):
                context.log(.warning, "\(files.count) file(s) changed on both sides: \(files.prefix(10).joined(separator: ", "))", source: "git")
                let answer = try await context.awaitInput(prompt: TaskText.text("input.git_conflicts.prompt", ["count": String(files.count)]),
                                                          schema: Self.schema(for: files))
                if answer["abort"]?.boolValue == true {
                    context.log(.info, "aborted by the operator: nothing merged; the remote's commits are kept under \(theirs)", source: "git")
                    try await context.step(key: "aborted_unchanged", progress: 100)
                    return .succeeded(.map(["result": .string("aborted")]))
                }
                var picked: [String: String] = [:]
                let all = answer["all"]?.stringValue
                for (i, file) in files.enumerated() {
                    picked[file] = answer["file\(i)"]?.stringValue ?? all ?? "ferry"
                }
                answers = picked
            }
        }
        throw TaskFailure(key: "history_kept_changing")
    }

    /// One attempt, holding the repository lock. With `answers`, a conflict on exactly those
    /// files is settled as they say; otherwise conflicts are only reported (the merge is undone).
    private func merge(theirs: String, answers: [String: String]?, context: TaskContext) async throws -> Step {
        let repo = git.repository
        let remote = try await repo.git(["rev-parse", "--verify", theirs]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        try await Self.checkTree(remote, repo: repo)
        // Files written by a commit that never happened (a crash) are rewritten by the next one.
        if try await repo.head() != nil {
            try await repo.git(["reset", "-q", "--hard"])
            try await repo.git(["clean", "-fdq"])
        }
        guard let head = try await repo.head() else {
            try await repo.git(["reset", "-q", "--hard", remote])
            return .fastForward(remote)
        }
        if try await repo.git(["merge-base", "--is-ancestor", remote, head], allow: [1]).status == 0 { return .upToDate }
        if try await repo.git(["merge-base", "--is-ancestor", head, remote], allow: [1]).status == 0 {
            try await repo.git(["merge", "-q", "--ff-only", remote])
            try await invalidate(from: head, to: remote, context: context)
            return .fastForward(remote)
        }
        let author = GitAuthor(startedBy: context.startedBy)
        let env = ["GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email, "GIT_COMMITTER_NAME": "Ferry", "GIT_COMMITTER_EMAIL": "ferry@localhost"]
        let message = "Merge the remote's \(theirs.split(separator: "/").last ?? "") into Ferry's history\n\nFerry-Task: \(context.taskID.key)"
        let attempt = try await repo.git(["merge", "-q", "--no-ff", "--no-edit", "-m", message, remote], environment: env, allow: [1])
        if attempt.status == 0 {
            let sha = try await repo.head() ?? remote
            try await invalidate(from: head, to: sha, context: context)
            return .merged(sha)
        }
        let conflicted = try await repo.git(["diff", "--name-only", "--diff-filter=U", "-z"]).stdout
            .split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }.sorted()
        guard let answers, Set(answers.keys) == Set(conflicted), !conflicted.isEmpty else {
            try await repo.git(["merge", "--abort"])
            if conflicted.isEmpty { throw GitFailure(key: "git_failed", nextKey: "git_merge_failed", ["command": "merge", "output": String(attempt.errorText.prefix(300))]) }
            return .conflicts(conflicted)
        }
        for file in conflicted {
            let side = answers[file] == "remote" ? "--theirs" : "--ours"
            let checkout = try await repo.git(["checkout", side, "--", file], allow: [1])
            if checkout.status != 0 {
                // That side deleted the file: settle by deleting it.
                try await repo.git(["rm", "-q", "--cached", "--ignore-unmatch", "--", file])
                try? FileManager.default.removeItem(at: repo.root.appendingPathComponent(file))
            } else {
                try await repo.git(["add", "--", file])
            }
            context.log(.info, "\(file): kept \(answers[file] == "remote" ? "the remote's" : "Ferry's") version", source: "git")
        }
        try await repo.git(["commit", "-q", "--no-verify", "--no-edit"], environment: env)
        let sha = try await repo.head() ?? remote
        try await invalidate(from: head, to: sha, context: context)
        return .merged(sha)
    }

    /// Refuses a remote tree Ferry would not write itself: links and submodules, and dot-files
    /// (`.gitignore`, `.gitattributes`, `.config/`...) that would change how git treats the work
    /// tree. Nothing is merged then; the remote's commits stay fetched.
    static func checkTree(_ commit: String, repo: GitRepository) async throws {
        let out = try await repo.git(["ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit])
        for record in out.stdout.split(separator: 0, omittingEmptySubsequences: true) {
            let line = String(decoding: record, as: UTF8.self)
            guard let tab = line.firstIndex(of: "\t") else { continue }
            let mode = line.prefix(6)
            let path = String(line[line.index(after: tab)...])
            let dotted = path.split(separator: "/").contains { $0.hasPrefix(".") }
            if mode == "120000" || mode == "160000" || dotted {
                throw GitFailure(key: mode == "120000" ? "remote_symlink" : mode == "160000" ? "remote_submodule" : "remote_dotfile", nextKey: "remote_unsafe_path",
                                 ["path": String(path.prefix(200))])
            }
        }
    }

    /// Dashboards whose files the merge changed are rewritten from Superset by the next commit
    /// of their environment (the history records what Superset has; deploy a revision to make
    /// the remote's version live).
    private func invalidate(from old: String, to new: String, context: TaskContext) async throws {
        let paths = try await git.repository.git(["diff", "--name-only", "-z", old, new]).stdout
            .split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        // "env/dashboards/<folder>" of every changed file.
        let dirs = Set(paths.compactMap { path -> String? in
            let parts = path.split(separator: "/", maxSplits: 3)
            return parts.count >= 3 && parts[1] == "dashboards" ? parts[0...2].joined(separator: "/") : nil
        })
        guard !dirs.isEmpty else { return }
        let rows = try await GitDashboardModel.query(on: context.db).filter(\.$dir ~~ Array(dirs)).all()
        for row in rows {
            row.contentKey = ""
            try await row.save(on: context.db)
        }
    }

    static func schema(for files: [String]) -> JSONSchema {
        var properties: [String: BundleValue] = [
            "abort": .map(["type": .string("boolean"), "default": .bool(false), "title": .string(TaskText.text("input.git_conflicts.abort")),
                           "description": .string(TaskText.text("input.git_conflicts.abort_hint"))]),
        ]
        let choice: (String) -> BundleValue = { title in
            .map(["type": .string("string"), "title": .string(title), "enum": .list([.string("ferry"), .string("remote")]),
                  "x-enumLabels": .list([.string(TaskText.text("input.git_conflicts.keep_ferry")), .string(TaskText.text("input.git_conflicts.take_remote"))]), "default": .string("ferry")])
        }
        if files.count > maxFilesAsked {
            properties["all"] = choice(TaskText.text("input.git_conflicts.all_files", ["count": String(files.count)]))
        } else {
            for (i, file) in files.enumerated() { properties["file\(i)"] = choice(file) }
        }
        return JSONSchema(.map(["type": .string("object"), "additionalProperties": .bool(false), "properties": .map(properties)]))
    }
}
