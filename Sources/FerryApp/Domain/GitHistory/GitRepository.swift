import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One commit as the history shows it.
struct GitRevision: Codable, Sendable, Equatable {
    var sha: String
    var author: String
    var email: String
    var date: Date
    var summary: String
    /// The Ferry task that made it (`Ferry-Task:` trailer); nil for a commit made elsewhere.
    var taskID: String?
}

/// A path a commit adds, modifies or deletes.
struct GitChange: Sendable, Equatable {
    enum Kind: String, Sendable { case added = "A", modified = "M", deleted = "D" }
    var kind: Kind
    var path: String
}

/// Ferry's git repository (`<FERRY_STORAGE>/git`): a work tree of canonical files on branch
/// `main`, driven only through the git CLI.
///
/// Invariants: every command that writes (stage, commit, merge, fetch) runs inside `exclusive`,
/// an `flock` on `.git/ferry.lock` that every Ferry process sharing the storage takes, so two
/// writers never meet and a reader never sees a half-written index. Nothing from a request
/// reaches git unvalidated: revisions pass `isRevision` and are resolved to a full sha;
/// paths are built by Ferry from sanitised names (`GitLayout`).
/// Side effects: files under `root`; child processes (`git`).
struct GitRepository: Sendable {
    let root: URL
    let cli: GitCLI
    var branch = "main"

    init(root: URL, cli: GitCLI = .live()) {
        self.root = root
        self.cli = cli
    }

    var gitDir: URL { root.appendingPathComponent(".git") }

    // MARK: Running git

    /// Runs git in the work tree; a non-zero exit throws with git's own words unless `allow`
    /// lists it.
    @discardableResult
    func git(_ arguments: [String], input: Data? = nil, environment: [String: String] = [:], timeout: TimeInterval = 120,
             allow: Set<Int32> = []) async throws -> GitOutput {
        let out = try await cli.run(arguments, GitRunOptions(directory: root, environment: environment, input: input, timeout: timeout))
        guard out.status == 0 || allow.contains(out.status) else {
            let words = out.errorText.isEmpty ? out.text.trimmingCharacters(in: .whitespacesAndNewlines) : out.errorText
            throw GitFailure(key: "git_failed", ["command": arguments.first ?? "", "output": String(words.prefix(600)), "path": root.path])
        }
        return out
    }

    // MARK: Set-up and recovery

    /// Creates the repository on first use; afterwards only checks it. Recovers what a killed
    /// Ferry left behind (see `recover`).
    func prepare() async throws -> [String] {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: gitDir.path) {
            try await git(["init", "-q", "-b", branch])
        }
        let cleaned = try await recover()
        try await exclusive {
            for (key, value) in Self.settings where try await git(["config", "--get", key], allow: [1]).text.trimmingCharacters(in: .whitespacesAndNewlines) != value {
                try await git(["config", key, value])
            }
        }
        return cleaned
    }

    /// The repository's own configuration.
    static let settings: [(String, String)] = [
        ("user.name", "Ferry"), ("user.email", "ferry@localhost"), ("core.quotepath", "false"), ("commit.gpgsign", "false"),
        ("core.commitGraph", "true"), ("fetch.writeCommitGraph", "true"), ("gc.writeCommitGraph", "true"), ("merge.conflictstyle", "merge"),
        // Housekeeping in the foreground, when git decides it is due: a detached one would hold
        // the command's pipes open for seconds.
        ("gc.autoDetach", "false"), ("maintenance.autoDetach", "false"),
        // What a remote sends is checked, and a link in it is checked out as a plain file: no
        // pulled tree can make Ferry write outside the repository.
        ("core.symlinks", "false"), ("transfer.fsckObjects", "true"), ("http.followRedirects", "false"),
    ]

    /// How old a lock file must be before a start removes it: older than any git command
    /// Ferry runs may take (a killed Ferry's child git may still be finishing one).
    static let staleLockAge: TimeInterval = 600

    /// Lock files and an unfinished merge left by a Ferry process that was killed mid-command.
    /// Runs only when no other process holds the repository lock, and removes only locks older
    /// than `staleLockAge`, so a lock being used is never removed; history itself is never
    /// touched. Returns what it cleaned.
    func recover(now: Date = Date()) async throws -> [String] {
        guard let lock = try RepositoryLock.acquire(at: gitDir.appendingPathComponent("ferry.lock"), wait: false) else { return [] }
        defer { lock.release() }
        var cleaned: [String] = []
        let fm = FileManager.default
        for name in ["index.lock", "HEAD.lock", "ORIG_HEAD.lock", "config.lock", "refs/heads/\(branch).lock"] {
            let url = gitDir.appendingPathComponent(name)
            guard let modified = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date else { continue }
            if now.timeIntervalSince(modified) >= Self.staleLockAge {
                try fm.removeItem(at: url)
                cleaned.append(name)
            }
        }
        if fm.fileExists(atPath: gitDir.appendingPathComponent("MERGE_HEAD").path), !fm.fileExists(atPath: gitDir.appendingPathComponent("index.lock").path) {
            try await git(["merge", "--abort"])
            cleaned.append("an unfinished merge")
        }
        return cleaned
    }

    /// Runs `body` holding the repository lock (waiting for it off the cooperative pool).
    func exclusive<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let url = gitDir.appendingPathComponent("ferry.lock")
        let lock = try await withCheckedThrowingContinuation { (c: CheckedContinuation<RepositoryLock, any Error>) in
            DispatchQueue.global().async {
                do { c.resume(returning: try RepositoryLock.acquire(at: url, wait: true)!) } catch { c.resume(throwing: error) }
            }
        }
        defer { lock.release() }
        return try await body()
    }

    // MARK: Revisions

    /// Whether `text` may name a revision: an abbreviated or full sha, `HEAD`, or `HEAD~n`.
    /// Anything else (a ref beginning with `-`, `..`, `@{...}`, a path) is refused before git
    /// sees it.
    static func isRevision(_ text: String) -> Bool {
        let t = text.lowercased()
        if t.count >= 4, t.count <= 64, t.allSatisfy({ $0.isHexDigit }) { return true }
        if text == "HEAD" { return true }
        if text.hasPrefix("HEAD~"), let n = Int(text.dropFirst(5)), (0...100_000).contains(n) { return true }
        return false
    }

    /// The full sha of commit `revision`, or nil when there is no such commit.
    func resolve(_ revision: String) async throws -> String? {
        guard Self.isRevision(revision) else { return nil }
        let out = try await git(["rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"], allow: [1, 128])
        let sha = out.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return out.status == 0 && sha.count >= 40 ? sha : nil
    }

    /// HEAD's sha; nil before the first commit.
    func head() async throws -> String? { try await resolve("HEAD") }

    // MARK: Writing

    /// Stages everything under `paths` (new, changed and removed files) and returns what the
    /// next commit would change there.
    func stage(_ paths: [String]) async throws -> [GitChange] {
        // Everything, whatever ignore rules a pulled tree may carry.
        try await git(["-c", "core.excludesFile=/dev/null", "add", "-A", "-f", "--"] + paths)
        let out = try await git(["diff", "--cached", "--name-status", "--no-renames", "-z", "--"] + paths)
        let parts = out.stdout.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        var changes: [GitChange] = []
        var i = 0
        while i + 1 < parts.count {
            if let kind = GitChange.Kind(rawValue: String(parts[i].prefix(1))) { changes.append(GitChange(kind: kind, path: parts[i + 1])) }
            i += 2
        }
        return changes
    }

    /// Commits what is staged; returns the new sha. `author` is a Ferry user or the scheduler;
    /// `trailers` go at the end of the message (`Ferry-Task: ...`).
    func commit(message: String, author: GitAuthor, trailers: [(String, String)]) async throws -> String {
        var text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trailers.isEmpty { text += "\n\n" + trailers.map { "\($0.0): \($0.1)" }.joined(separator: "\n") }
        try await git(["commit", "-q", "--no-verify", "--cleanup=verbatim", "-F", "-", "--author=\(author.signature)"], input: Data((text + "\n").utf8),
                      environment: ["GIT_COMMITTER_NAME": "Ferry", "GIT_COMMITTER_EMAIL": "ferry@localhost"])
        guard let sha = try await head() else { throw GitFailure(key: "commit_no_head") }
        // Keeps path-limited history (a dashboard's) fast as the repository grows.
        _ = try? await git(["commit-graph", "write", "--reachable", "--changed-paths", "--split"], timeout: 60)
        return sha
    }

    // MARK: Reading

    /// `git log --format` for `GitRevision`: fields split by 0x1f, records by 0x1e.
    private static let revisionFormat = "--format=%H%x1f%an%x1f%ae%x1f%at%x1f%s%x1f%(trailers:key=Ferry-Task,valueonly,separator=%x2c)%x1e"

    private static func revisions(_ text: String) -> [GitRevision] {
        text.split(separator: "\u{1e}").compactMap { record in
            let f = record.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5, let seconds = TimeInterval(f[3]) else { return nil }
            let task = f.count > 5 ? f[5].trimmingCharacters(in: .whitespacesAndNewlines) : ""
            return GitRevision(sha: f[0], author: f[1], email: f[2], date: Date(timeIntervalSince1970: seconds), summary: f[4], taskID: task.isEmpty ? nil : task)
        }
    }

    /// Commits that changed anything under `path` (or anything at all), newest first.
    func log(path: String?, limit: Int, skip: Int = 0) async throws -> [GitRevision] {
        var args = ["log", "--no-color", Self.revisionFormat, "--max-count=\(max(1, min(limit, 1000)))", "--skip=\(max(0, min(skip, 1_000_000)))", "HEAD"]
        if let path { args += ["--", path] }
        let out = try await git(args, allow: [128])
        guard out.status == 0 else {
            if try await head() == nil { return [] }  // no commit yet
            throw GitFailure(key: "git_failed", nextKey: "git_read_failed", ["command": "log", "output": String(out.errorText.prefix(300))])
        }
        return Self.revisions(out.text)
    }

    /// The largest file Ferry reads back from the history (a canonical asset file is a few KB;
    /// a bigger one can only come from a remote).
    static let maxFileBytes = 8 << 20

    /// Paths of the regular files under `directory` at commit `sha` (a full sha from
    /// `resolve`) no larger than `maxFileBytes`: links, submodules and huge files are left out.
    func files(at sha: String, under directory: String) async throws -> [String] {
        let out = try await git(["ls-tree", "-r", "-z", "-l", "--end-of-options", sha, "--", directory])
        return out.stdout.split(separator: 0, omittingEmptySubsequences: true).compactMap { record in
            // "<mode> <type> <object> <size>\t<path>"
            let line = String(decoding: record, as: UTF8.self)
            guard let tab = line.firstIndex(of: "\t") else { return nil }
            let head = line[..<tab].split(separator: " ", omittingEmptySubsequences: true)
            guard head.count == 4, head[0] == "100644" || head[0] == "100755", head[1] == "blob",
                  let size = Int(head[3]), size <= Self.maxFileBytes else { return nil }
            return String(line[line.index(after: tab)...])
        }
    }

    /// The contents of `paths` at commit `sha`, by path; paths missing there are absent.
    func read(_ paths: [String], at sha: String) async throws -> [String: Data] {
        let found = try await read(paths.map { (sha, $0) })
        return Dictionary(uniqueKeysWithValues: paths.compactMap { p in found["\(sha):\(p)"].map { (p, $0) } })
    }

    /// The contents of files at commits, in one `cat-file`, keyed `"<sha>:<path>"`; missing
    /// ones and files over `maxFileBytes` are absent.
    func read(_ items: [(sha: String, path: String)]) async throws -> [String: Data] {
        guard !items.isEmpty else { return [:] }
        let input = Data(items.map { "\($0.sha):\($0.path)\n" }.joined().utf8)
        let out = try await git(["cat-file", "--batch"], input: input)
        var result: [String: Data] = [:]
        let bytes = out.stdout
        var index = bytes.startIndex
        for item in items {
            guard let newline = bytes[index...].firstIndex(of: 0x0a) else { break }
            let header = String(decoding: bytes[index..<newline], as: UTF8.self).split(separator: " ")
            index = bytes.index(after: newline)
            guard header.count == 3, let size = Int(header[2]) else { continue }  // "<name> missing"
            let end = bytes.index(index, offsetBy: size)
            if header[1] == "blob" && size <= Self.maxFileBytes { result["\(item.sha):\(item.path)"] = Data(bytes[index..<end]) }
            index = min(bytes.endIndex, bytes.index(after: end))
        }
        return result
    }

    /// Whether `text` is a full commit sha (40 hex digits).
    static func isFullSHA(_ text: String) -> Bool { text.count == 40 && text.allSatisfy(\.isHexDigit) }

    /// A unified diff of `paths` between two commits (full shas).
    func diff(from: String, to: String, paths: [String]) async throws -> String {
        try await git(["diff", "--no-color", "--no-ext-diff", "--no-renames", "--end-of-options", from, to, "--"] + paths).text
    }

    /// Paths under `pathspec` at `sha` whose file contains `text` (for a dashboard's folder at
    /// a revision, by its uuid).
    func grep(_ text: String, at sha: String, under pathspec: String) async throws -> [String] {
        let out = try await git(["grep", "-l", "-F", "-e", text, "--end-of-options", sha, "--", pathspec], allow: [1])
        return out.text.split(separator: "\n").map { line in
            // "<sha>:<path>"
            String(line.dropFirst(sha.count + 1))
        }
    }
}

/// Who a commit is by: a Ferry user (their username) or the scheduler.
struct GitAuthor: Sendable, Equatable {
    var name: String

    /// From a task's `startedBy` ("alice", "scheduler:Nightly backup", "cli:admin").
    init(startedBy: String) {
        let cleaned = startedBy.filter { !"<>\n\r\0".contains($0) }.trimmingCharacters(in: .whitespaces)
        name = cleaned.isEmpty ? "Ferry" : cleaned
    }

    var email: String {
        let local = name.lowercased().map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? String($0) : "-" }.joined()
        return "\(local.isEmpty ? "ferry" : local)@ferry.invalid"
    }

    var signature: String { "\(name) <\(email)>" }
}

/// An exclusive `flock` on a file, for as long as the value is held.
final class RepositoryLock: @unchecked Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Nil when `wait` is false and another holder has it.
    static func acquire(at url: URL, wait: Bool) throws -> RepositoryLock? {
        let fd = open(url.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw GitFailure(key: "cant_open", ["path": url.path, "reason": String(cString: strerror(errno))])
        }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw GitFailure(key: "cant_lock", ["path": url.path, "reason": String(cString: strerror(code))])
        }
        return RepositoryLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
