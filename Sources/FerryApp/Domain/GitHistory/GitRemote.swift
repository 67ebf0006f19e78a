import Fluent
import Foundation

/// How Ferry signs in to its git remote.
enum GitRemoteAuth: String, Codable, Sendable, CaseIterable {
    /// No credentials (a server on a trusted network).
    case none
    /// HTTPS with a username and a token (basic auth).
    case token
    /// SSH with a private key.
    case ssh
}

/// The one remote Ferry's history is pushed to and pulled from. Stored as the `git.remote`
/// setting; the secret (token or private key) only sealed by the `SecretBox`.
struct GitRemoteSettings: Codable, Sendable, Equatable {
    var url: String = ""
    var auth: GitRemoteAuth = .none
    var username: String = ""
    var branch: String = "main"
    var pushAfterCommit: Bool = false
    var secretSealed: String?

    var isConfigured: Bool { !url.isEmpty }
}

/// A change to the remote from the API, page or CLI. Absent fields keep their value; an empty
/// `secret` removes the stored one.
struct GitRemoteInput: Codable, Sendable {
    var url: String?
    var auth: GitRemoteAuth?
    var username: String?
    var branch: String?
    var pushAfterCommit: Bool?
    var secret: String?
}

/// Reads and changes the remote, and runs the commands that talk to it with its credentials.
///
/// Side effects: the `settings` row; while a command runs, a private key file (0600) or an
/// askpass script under `<storage>/git-credentials/`, removed afterwards. Credentials reach git
/// through its environment only: never its arguments, its config or a log.
struct GitRemoteStore: Sendable {
    static let settingsKey = "git.remote"
    let box: SecretBox
    /// Where the askpass script, known hosts and transient keys live.
    let credentialsDir: URL

    func load(on db: any Database) async throws -> GitRemoteSettings {
        try await SettingModel.read(GitRemoteSettings.self, key: Self.settingsKey, on: db) ?? GitRemoteSettings()
    }

    /// Validates and stores a change; 422 names every bad field and nothing is saved then. A
    /// new host or scheme without a new secret drops the stored one (credentials follow the URL).
    func save(_ input: GitRemoteInput, now: Date, newID: UUID, on db: any Database) async throws -> GitRemoteSettings {
        var s = try await load(on: db)
        let old = s
        var errors: [FieldError] = []
        if let v = input.url { s.url = v.trimmingCharacters(in: .whitespaces) }
        if let v = input.auth { s.auth = v }
        if let v = input.username { s.username = v.trimmingCharacters(in: .whitespaces) }
        if let v = input.branch { s.branch = v.trimmingCharacters(in: .whitespaces) }
        if let v = input.pushAfterCommit { s.pushAfterCommit = v }
        if let v = input.secret {
            if v.count > 16_384 { errors.append(FieldError(field: "secret", code: "too_long", key: "at_most_chars", ["max": "16384"])) }
            s.secretSealed = v.isEmpty ? nil : try box.seal(v)
        } else if !s.url.isEmpty, Self.host(of: s.url) != Self.host(of: old.url) || s.auth != old.auth {
            s.secretSealed = nil
        }
        if !s.url.isEmpty {
            if let problem = Self.problem(url: s.url, auth: s.auth) { errors.append(problem) }
        } else if s.pushAfterCommit {
            errors.append(FieldError(field: "url", code: "required", key: "remote_url_required"))
        }
        if !Self.isBranchName(s.branch) {
            errors.append(FieldError(field: "branch", code: "invalid", key: "branch"))
        }
        if s.auth == .token && s.username.isEmpty && !s.url.isEmpty {
            errors.append(FieldError(field: "username", code: "required", key: "remote_username_token"))
        }
        if s.username.count > 200 || s.username.contains(where: { $0.isNewline || $0 == "\0" }) {
            errors.append(FieldError(field: "username", code: "invalid", key: "one_line_max", ["max": "200"]))
        }
        if s.auth != .none && s.secretSealed == nil && !s.url.isEmpty {
            errors.append(FieldError(field: "secret", code: "required_for_new_url", key: s.auth == .token ? "remote_token" : "remote_key"))
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        try await SettingModel.write(s, key: Self.settingsKey, now: now, newID: newID, on: db)
        return s
    }

    func clear(on db: any Database) async throws {
        try await SettingModel.query(on: db).filter(\.$key == Self.settingsKey).delete()
    }

    // MARK: Validation

    /// Why a remote URL is refused (the `url` field's refusal), or nil. Only `https://`,
    /// `http://` (loopback and trusted networks), `ssh://` and scp-style `user@host:path` are
    /// accepted: git's other transports (`ext::`, `file://`, local paths) run commands or read
    /// Ferry's own disk.
    static func problem(url: String, auth: GitRemoteAuth) -> FieldError? {
        if url.count > 2_000 { return FieldError(field: "url", code: "invalid", key: "at_most_chars", ["max": "2000"]) }
        if url.hasPrefix("-") || url.contains(where: { $0.isWhitespace || $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) {
            return FieldError(field: "url", code: "invalid", key: "git_url_spaces")
        }
        let lower = url.lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") {
            guard let u = URL(string: url), u.host != nil else { return FieldError(field: "url", code: "invalid", key: "git_url_invalid") }
            if u.user != nil || u.password != nil { return FieldError(field: "url", code: "invalid", key: "git_url_credentials") }
            if auth == .ssh { return FieldError(field: "url", code: "invalid", key: "git_url_http_for_ssh") }
            if auth == .token, lower.hasPrefix("http://"), !["127.0.0.1", "localhost", "::1", "[::1]"].contains(u.host!.lowercased()) {
                return FieldError(field: "url", code: "invalid", key: "git_url_token_https")
            }
            return nil
        }
        if lower.hasPrefix("ssh://") || isSCPLike(url) {
            if auth == .token { return FieldError(field: "url", code: "invalid", key: "git_url_ssh_for_token") }
            return nil
        }
        return FieldError(field: "url", code: "invalid", key: "git_url_scheme")
    }

    static func isSCPLike(_ url: String) -> Bool {
        guard !url.contains("://"), let colon = url.firstIndex(of: ":"), let at = url.firstIndex(of: "@"), at < colon else { return false }
        let host = url[url.index(after: at)..<colon]
        return !host.isEmpty && !url[..<at].isEmpty && !url[url.index(after: colon)...].isEmpty && !host.contains("/")
    }

    static func host(of url: String) -> String {
        if let u = URL(string: url), let h = u.host { return "\(u.scheme ?? "")://\(h):\(u.port ?? 0)" }
        if isSCPLike(url), let at = url.firstIndex(of: "@"), let colon = url.firstIndex(of: ":") { return String(url[url.index(after: at)..<colon]) }
        return url
    }

    static func isBranchName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 200, !name.hasPrefix("-"), !name.hasPrefix("."), !name.hasPrefix("/"), !name.hasSuffix("/"),
              !name.hasSuffix(".lock"), !name.contains(".."), !name.contains("//") else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }
    }

    // MARK: Talking to the remote

    /// Runs `body` with the environment a git command needs to reach the remote: allowed
    /// transports only, the credentials of `settings`. Transient files are removed afterwards.
    func withCredentials<T: Sendable>(_ settings: GitRemoteSettings, _ body: ([String: String]) async throws -> T) async throws -> T {
        let fm = FileManager.default
        try fm.createDirectory(at: credentialsDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var env = ["GIT_ALLOW_PROTOCOL": "http:https:ssh", "GIT_TERMINAL_PROMPT": "0"]
        let secret = try settings.secretSealed.map { try box.open($0) }
        var transient: URL?
        defer { if let transient { try? fm.removeItem(at: transient) } }
        switch settings.auth {
        case .none:
            break
        case .token:
            let script = credentialsDir.appendingPathComponent("askpass.sh")
            let text = "#!/bin/sh\ncase \"$1\" in\n  Username*) printf '%s\\n' \"$FERRY_GIT_USERNAME\" ;;\n  *) printf '%s\\n' \"$FERRY_GIT_PASSWORD\" ;;\nesac\n"
            if fm.contents(atPath: script.path) != Data(text.utf8) {
                try Data(text.utf8).write(to: script)
            }
            try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script.path)
            env["GIT_ASKPASS"] = script.path
            env["FERRY_GIT_USERNAME"] = settings.username
            env["FERRY_GIT_PASSWORD"] = secret ?? ""
        case .ssh:
            let key = credentialsDir.appendingPathComponent("key-\(UUID().uuidString)")
            var text = secret ?? ""
            if !text.hasSuffix("\n") { text += "\n" }
            guard fm.createFile(atPath: key.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw GitFailure(key: "ssh_key_unwritable", ["folder": credentialsDir.path])
            }
            transient = key
            let hosts = credentialsDir.appendingPathComponent("known_hosts").path
            env["GIT_SSH_COMMAND"] = "ssh -i '\(key.path)' -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile='\(hosts)' -o ConnectTimeout=20"
        }
        return try await body(env)
    }

    /// Turns git's words about a failed remote command into what happened and what to do.
    static func explain(_ output: GitOutput, action: String, url: String) -> GitFailure {
        let text = output.errorText
        let lower = text.lowercased()
        // HTTP statuses only as git words them: a bare "401" also occurs in commit ids, and once
        // turned a rejected push into "refused Ferry's credentials".
        if lower.contains("authentication failed") || lower.contains("could not read username") || lower.contains("permission denied")
            || lower.contains("returned error: 401") || lower.contains("returned error: 403") {
            return GitFailure(key: "remote_refused_credentials", ["url": url, "action": action])
        }
        if lower.contains("non-fast-forward") || lower.contains("[rejected]") || lower.contains("fetch first") || lower.contains("rejected") {
            return GitFailure(key: "remote_push_rejected", ["url": url])
        }
        if lower.contains("could not resolve") || lower.contains("connection refused") || lower.contains("failed to connect")
            || lower.contains("timed out") || lower.contains("unable to access") || lower.contains("could not connect") {
            return GitFailure(key: "remote_unreachable", ["url": url, "action": action, "output": String(text.prefix(300))])
        }
        if lower.contains("not found") || lower.contains("does not appear to be a git repository") || lower.contains("couldn't find remote ref") {
            return GitFailure(key: "remote_not_found", ["url": url, "action": action])
        }
        return GitFailure(key: "remote_failed", ["action": action, "url": url, "output": String(text.prefix(400))])
    }

    /// Pushes HEAD to the remote branch (never forced).
    func push(_ repository: GitRepository, settings: GitRemoteSettings) async throws {
        try await withCredentials(settings) { env in
            let out = try await repository.git(["-c", "credential.helper=", "push", "--porcelain", "--end-of-options", settings.url, "HEAD:refs/heads/\(settings.branch)"],
                                               environment: env, timeout: 120, allow: Set(1...255))
            if out.status != 0 { throw Self.explain(out, action: "push", url: settings.url) }
        }
    }

    /// Fetches the remote branch into `refs/remotes/ferry/<branch>`; false when the remote has
    /// no such branch yet.
    func fetch(_ repository: GitRepository, settings: GitRemoteSettings) async throws -> Bool {
        try await withCredentials(settings) { env in
            let out = try await repository.git(["-c", "credential.helper=", "fetch", "--no-tags", "--end-of-options", settings.url,
                                                "+refs/heads/\(settings.branch):refs/remotes/ferry/\(settings.branch)"],
                                               environment: env, timeout: 120, allow: Set(1...255))
            if out.status != 0 {
                if out.errorText.lowercased().contains("couldn't find remote ref") { return false }
                throw Self.explain(out, action: "fetch", url: settings.url)
            }
            return true
        }
    }
}
