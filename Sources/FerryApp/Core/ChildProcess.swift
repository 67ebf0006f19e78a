import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end with `posix_spawn`, feeding it `input` and collecting what it
/// prints, on the calling thread alone (one `poll` loop over its pipes).
///
/// Why not Foundation's `Process`: on Linux it registers every child with a run loop of the
/// launching thread and a manager thread, which crashed under load when many threads launched
/// processes at once (a test run lost its process to a bad pointer inside `Process.run`). This
/// keeps nothing between calls: pipes, a process group, `waitpid`.
///
/// Invariants: the child leads its own process group, which is killed (SIGKILL) at the deadline
/// or when reading fails; it is always reaped; every descriptor opened here is closed; output
/// beyond `maxOutput` bytes per stream is dropped (the child is not blocked by it).
/// Side effects: a process, blocking the calling thread until it ends.
enum ChildProcess {
    struct Output: Sendable {
        var status: Int32
        var stdout: Data
        var stderr: Data
        var timedOut: Bool
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    static let maxOutput = 256 << 20

    static func run(_ executable: String, _ arguments: [String], environment: [String: String], directory: String?, input: Data?,
                    timeout: TimeInterval) throws -> Output {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        var opened: [Int32] = []
        defer { for fd in opened where fd >= 0 { close(fd) } }
        for i in 0..<3 {
            var p: [Int32] = [-1, -1]
            guard pipe(&p) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
            for fd in p { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            opened += p
            if i == 0 { inPipe = p } else if i == 1 { outPipe = p } else { errPipe = p }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        _ = closeFrom?(&actions, 3)
        if let directory {
            guard let chdir = addChdir else { throw SpawnError(description: "this C library can't start a program in a folder (posix_spawn_file_actions_addchdir_np)") }
            _ = directory.withCString { chdir(&actions, $0) }
        }
        var pid: pid_t = 0
        let status = spawnInOwnGroup(&pid, executable, [executable] + arguments, environment: environment, actions: &actions)
        guard status == 0 else { throw SpawnError(description: "\(executable) didn't start: \(String(cString: strerror(status)))") }
        // The child's ends are its own now.
        for fd in [inPipe[0], outPipe[1], errPipe[1]] { close(fd) }
        opened = [inPipe[1], outPipe[0], errPipe[0]]
        for fd in opened { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

        var toWrite = [UInt8](input ?? Data())
        var written = 0
        if toWrite.isEmpty { close(inPipe[1]); opened[0] = -1 }
        var out = Data(), err = Data()
        var open = (out: true, err: true)
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while open.out || open.err {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { timedOut = true; break }
            var fds: [pollfd] = []
            if open.out { fds.append(pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0)) }
            if open.err { fds.append(pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)) }
            if opened[0] >= 0 { fds.append(pollfd(fd: inPipe[1], events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 1) * 1000) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                timedOut = true  // can't watch it: end it
                break
            }
            for p in fds where p.revents != 0 {
                if p.fd == inPipe[1] {
                    let n = toWrite.withUnsafeBytes { write(p.fd, $0.baseAddress! + written, toWrite.count - written) }
                    if n > 0 { written += n }
                    if n < 0 && errno != EAGAIN && errno != EINTR || written >= toWrite.count {
                        close(inPipe[1]); opened[0] = -1
                        toWrite = []
                    }
                    continue
                }
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if p.fd == outPipe[0] { if out.count < maxOutput { out.append(contentsOf: buffer[0..<n]) } }
                    else if err.count < maxOutput { err.append(contentsOf: buffer[0..<n]) }
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    if p.fd == outPipe[0] { open.out = false } else { open.err = false }
                }
            }
        }
        if timedOut {
            _ = kill(-pid, SIGKILL)
            _ = kill(pid, SIGKILL)
        }
        // Both streams closed, but the child may linger: wait for it until the deadline.
        var wstatus: Int32 = 0
        while true {
            let r = waitpid(pid, &wstatus, timedOut ? 0 : WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if r == 0 && deadline.timeIntervalSinceNow <= 0 {
                timedOut = true
                _ = kill(-pid, SIGKILL)
                _ = kill(pid, SIGKILL)
            } else if r == 0 {
                usleep(2000)
            }
        }
        // Exited normally: its code; killed: 128 + the signal, as a shell reports it.
        let code = (wstatus & 0x7f) == 0 ? (wstatus >> 8) & 0xff : 128 + (wstatus & 0x7f)
        return Output(status: code, stdout: out, stderr: err, timedOut: timedOut)
    }

    /// `posix_spawn` of `argv` as the leader of a new process group, with SIGPIPE, SIGTERM,
    /// SIGINT and SIGCHLD at their defaults and no signal blocked (whatever Ferry's threads set).
    /// Returns posix_spawn's status; `pid` is the child's when it is 0.
    static func spawnInOwnGroup(_ pid: inout pid_t, _ executable: String, _ argv: [String], environment: [String: String],
                                actions: inout posix_spawn_file_actions_t) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGTERM, SIGINT, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let env = environment.map { "\($0.key)=\($0.value)" }
        var child: pid_t = 0
        let status = withCStringArray(argv) { a in
            withCStringArray(env) { e in posix_spawn(&child, executable, &actions, &attributes, a, e) }
        }
        pid = child
        return status
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+) and `..._addchdir_np` (2.29+),
    /// which Swift's Glibc module doesn't export.
    static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()
}

/// Calls `body` with a NULL-terminated C array of `strings`.
func withCStringArray<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return body(pointers)
}
