import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A chromium process Ferry started, speaking the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: it reads commands on fd 3 and writes answers on fd 4, each a JSON
/// text ended by a NUL byte).
///
/// Why a pipe and not `--remote-debugging-port`: a port on loopback would let any local process
/// drive a browser that is signed in to Superset, and when Ferry dies (even `kill -9`) the pipe
/// closes and chromium exits by itself: it can never outlive Ferry.
///
/// Invariants: the process leads its own process group; `kill()` ends that whole group with
/// SIGKILL and reaps the leader, and is idempotent. Side effects: a process, two pipes, a
/// profile folder (`profile`) the caller owns.
final class ChromiumProcess: @unchecked Sendable {
    let pid: pid_t
    /// Commands go here (chromium's fd 3), only through `write`.
    private let commands: Int32
    /// Chromium's answers and events (its fd 4).
    let events: Int32
    private let lock = NSLock()
    private let writeLock = NSLock()
    private var killed = false

    struct LaunchError: Error, CustomStringConvertible {
        var description: String
    }

    private init(pid: pid_t, commands: Int32, events: Int32) {
        self.pid = pid
        self.commands = commands
        self.events = events
    }

    /// Starts `executable` headless with a fresh profile in `profile`, its output to `logFile`.
    static func launch(executable: String, profile: URL, logFile: URL, extraArguments: [String] = []) throws -> ChromiumProcess {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw LaunchError(description: "chromium is not installed (\(executable) is missing or not executable)")
        }
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var arguments = [
            executable, "--headless=new", "--remote-debugging-pipe", "--user-data-dir=\(profile.path)",
            "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
            "--metrics-recording-only", "--password-store=basic", "--use-mock-keychain", "--force-color-profile=srgb",
            "--window-size=1920,1080", "about:blank",
        ]
        // Chromium's sandbox refuses to start as root; as any other user it stays on (it needs
        // unprivileged user namespaces, or chromium's setuid helper). Without the sandbox there
        // is no zygote either, so every renderer is a child in this process group.
        if geteuid() == 0 { arguments.insert(contentsOf: ["--no-sandbox", "--no-zygote"], at: 1) }
        arguments.insert(contentsOf: extraArguments, at: 1)

        var toChrome: [Int32] = [0, 0], fromChrome: [Int32] = [0, 0]
        guard pipe(&toChrome) == 0 else { throw LaunchError(description: "pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&fromChrome) == 0 else {
            close(toChrome[0]); close(toChrome[1])
            throw LaunchError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec (pipe2 isn't exported) and above the child's 0-4, so its dup2s can't
        // overwrite one another's sources.
        func high(_ fd: Int32) -> Int32 {
            let moved = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            guard moved >= 0 else { return fd }
            close(fd)
            return moved
        }
        toChrome = toChrome.map(high)
        fromChrome = fromChrome.map(high)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, toChrome[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromChrome[1], 4)
        // Nothing else of Ferry's (sockets, the store) reaches chromium.
        _ = ChildProcess.closeFrom?(&actions, 5)
        let environment = ProcessInfo.processInfo.environment
        var pid: pid_t = 0
        let status = ChildProcess.spawnInOwnGroup(&pid, executable, arguments, environment: [
            "PATH": environment["PATH"] ?? "/usr/bin:/bin", "HOME": profile.path, "LANG": "C.UTF-8", "TZ": "UTC",
        ], actions: &actions)
        close(toChrome[0]); close(fromChrome[1])
        guard status == 0 else {
            close(toChrome[1]); close(fromChrome[0])
            throw LaunchError(description: "chromium didn't start: \(String(cString: strerror(status)))")
        }
        return ChromiumProcess(pid: pid, commands: toChrome[1], events: fromChrome[0])
    }

    /// Ends chromium and every process it started (SIGKILL to its group), closes the pipes
    /// and reaps it. Safe to call more than once and from any thread.
    func kill() {
        let first = lock.withLock { () -> Bool in
            if killed { return false }
            killed = true
            return true
        }
        guard first else { return }
        _ = Glibc.kill(-pid, SIGKILL)
        _ = Glibc.kill(pid, SIGKILL)
        // A write blocked on a full pipe fails now that chromium is gone, then this closes.
        writeLock.withLock { _ = close(commands) }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    /// Writes one command (bytes ending with NUL) to chromium; false once it is gone or killed
    /// (the descriptor is never written after `kill` closed it).
    func write(_ bytes: [UInt8]) -> Bool {
        writeLock.withLock {
            guard !lock.withLock({ killed }) else { return false }
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(commands, $0.baseAddress! + offset, bytes.count - offset) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
    }

    /// Whether the browser process may still run (not killed by Ferry, and signalable: a zombie
    /// not yet reaped counts too).
    var isRunning: Bool {
        lock.withLock { !killed } && Glibc.kill(pid, 0) == 0
    }

    deinit { kill() }
}
