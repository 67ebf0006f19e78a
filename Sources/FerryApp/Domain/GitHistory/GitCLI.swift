import Foundation

/// What one git command printed and how it ended.
struct GitOutput: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data
    var text: String { String(decoding: stdout, as: UTF8.self) }
    var errorText: String { String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// How to run one git command.
struct GitRunOptions: Sendable {
    var directory: URL
    /// Added to the command's environment (credentials helpers, `GIT_SSH_COMMAND`...).
    var environment: [String: String] = [:]
    var input: Data? = nil
    /// The command is killed after this long (a remote that doesn't answer).
    var timeout: TimeInterval = 120
}

/// Why a git command failed, in words for the task log and the operator.
struct GitFailure: Error, CustomStringConvertible, Sendable {
    var message: String
    var next: String
    var description: String { message }
    var taskFailure: TaskFailure { TaskFailure(message, next: next) }
}

/// The git CLI from the system's packages (`/usr/bin/git`), the only thing that touches a
/// repository. Injectable: tests may wrap it to inject faults.
///
/// Every command runs with no system or global configuration (`GIT_CONFIG_NOSYSTEM`,
/// `GIT_CONFIG_GLOBAL=/dev/null`), no terminal prompt, and the C locale, so what it prints is
/// what Ferry parses. Arguments are passed as a list (no shell); callers put `--end-of-options`
/// or `--` before anything that comes from a request.
struct GitCLI: Sendable {
    var run: @Sendable (_ arguments: [String], _ options: GitRunOptions) async throws -> GitOutput

    static func live(executable: String = "/usr/bin/git") -> GitCLI {
        GitCLI { arguments, options in
            try await withCheckedThrowingContinuation { continuation in
                // Threads of its own, not the dispatch pool: a command blocks up to three of them
                // (its pipes), and a saturated pool grows only after a delay of seconds.
                spawn {
                    // At most `maxConcurrent` git processes at once, whatever the requests ask.
                    slots.wait()
                    defer { slots.signal() }
                    do { continuation.resume(returning: try runBlocking(executable, arguments, options)) } catch { continuation.resume(throwing: error) }
                }
            }
        }
    }

    /// Git processes running at once in this Ferry, at most.
    static let maxConcurrent = 8
    private static let slots = DispatchSemaphore(value: maxConcurrent)

    /// Runs `body` on a new thread.
    private static func spawn(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The environment every command gets (before `GitRunOptions.environment`).
    static func baseEnvironment(home: URL) -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        return [
            "PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": home.path,
            "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_ASKPASS": "/bin/false",
            // Paths are paths: a file named `*` or `:(glob)...` from a remote matches only itself.
            "GIT_LITERAL_PATHSPECS": "1",
            "XDG_CONFIG_HOME": home.appendingPathComponent(".config").path,
            "SSH_ASKPASS": "/bin/false",
        ]
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], _ options: GitRunOptions) throws -> GitOutput {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw GitFailure(key: "git_missing", ["path": executable])
        }
        // HOME inside .git, where no pulled file can land (git reads $HOME/.config/git/*).
        let gitDir = options.directory.appendingPathComponent(".git")
        let home = FileManager.default.fileExists(atPath: gitDir.path) ? gitDir : options.directory
        let environment = baseEnvironment(home: home).merging(options.environment) { _, new in new }
        let out = try ChildProcess.run(executable, arguments, environment: environment, directory: options.directory.path, input: options.input,
                                       timeout: options.timeout)
        if out.timedOut {
            throw GitFailure(key: "git_timeout", ["command": arguments.first ?? "", "seconds": String(Int(options.timeout))])
        }
        return GitOutput(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }
}
