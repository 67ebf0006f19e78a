import Foundation

/// Ferry's settings, read once from the process environment (see the README's configuration
/// table). Pure: it reads only the dictionary it is given.
public struct FerryConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// `DATABASE_URL` (postgres://...) selects PostgreSQL; otherwise SQLite at `sqlitePath`.
    public var databaseURL: String?
    public var dataDirectory: String = "var"
    /// Base64 of 32 bytes. When nil, a key file under `dataDirectory` is used (created once).
    public var secretKey: String?
    /// Seconds between periodic inventory syncs; 0 disables them.
    public var syncInterval: Double = 900
    /// Seconds allowed for a Superset call made while a person waits (test connection).
    public var interactiveTimeout: Double = 10
    /// Seconds allowed for one Superset call in background work.
    public var supersetTimeout: Double = 30
    public var logLevel: String = "info"
    public var defaultLanguage: String = "en"
    /// Largest accepted upload (bundle ZIPs), bytes.
    public var maxUploadBytes: Int = 64 << 20
    /// The task engine: workers, per-environment limit, lease, input timeout.
    public var tasks = TaskEngineConfiguration()
    /// The address people reach Ferry at (`FERRY_PUBLIC_URL`): SSO's redirect address is built
    /// from it, and an https one marks the session cookie Secure.
    public var publicURL: String?
    /// Hours a browser session lasts after sign-in.
    public var sessionHours: Double = 12
    /// bcrypt's cost factor for local passwords (4-31; each step doubles the work).
    public var bcryptCost: Int = 12
    /// Seconds a resolved session or token is reused before it is read from the store again.
    /// Revocations in this process take effect at once; in another process sharing PostgreSQL,
    /// within this many seconds.
    public var authCacheSeconds: Double = 5
    /// The first administrator's password (`FERRY_ADMIN_PASSWORD`), used only while no user exists.
    public var adminPassword: String?
    public var adminUsername: String = "admin"
    /// Sign-in rate limits, the bcrypt pool, token lifetimes, SSO re-checks, WebSocket limits.
    public var hardening = HardeningConfiguration()
    /// Where backups live (`FERRY_STORAGE`): content-addressed blobs and manifests. Default:
    /// `storage` in the data directory.
    public var storagePath: String?
    /// Days between full backups (`FERRY_BACKUP_FULL_EVERY_DAYS`); the ones between export only
    /// what changed.
    public var fullBackupEveryDays: Int = 7
    /// Seconds an unreferenced blob or orphan manifest is left before collection removes it
    /// (`FERRY_BACKUP_COLLECT_GRACE`): longer than any backup takes to write its manifest.
    public var backupCollectGrace: Double = 6 * 3600
    /// Dashboard checks: chromium, screenshot quota and retention (`FERRY_CHROMIUM`,
    /// `FERRY_HEALTH_SCREENSHOT_QUOTA_MB`, `FERRY_HEALTH_RETENTION_DAYS`).
    public var health = HealthConfiguration()
    /// Days a task's report is kept after the task finished (`FERRY_REPORTS_RETENTION_DAYS`,
    /// 1-3650): reports outlive the tasks themselves, which the daily prune deletes sooner.
    public var reportsRetentionDays = 365

    public init() {}

    /// The backup storage folder in effect.
    public var storageDirectory: String { storagePath ?? (dataDirectory as NSString).appendingPathComponent("storage") }

    public var sqlitePath: String { (dataDirectory as NSString).appendingPathComponent("ferry.sqlite") }
    public var usesPostgres: Bool { databaseURL?.isEmpty == false }

    /// Reads settings from environment variables. Throws `ConfigurationError` naming the bad one.
    public static func from(environment env: [String: String]) throws -> FerryConfiguration {
        var c = FerryConfiguration()
        if let v = env["FERRY_HOST"], !v.isEmpty { c.host = v }
        if let v = env["FERRY_PORT"], !v.isEmpty {
            guard let p = Int(v), (1...65535).contains(p) else { throw ConfigurationError(variable: "FERRY_PORT", message: "must be a port number (1-65535), got '\(v)'") }
            c.port = p
        }
        if let v = env["DATABASE_URL"], !v.isEmpty {
            guard v.hasPrefix("postgres://") || v.hasPrefix("postgresql://") else {
                throw ConfigurationError(variable: "DATABASE_URL", message: "must be a postgres:// URL")
            }
            c.databaseURL = v
        }
        if let password = env["FERRY_DATABASE_PASSWORD"], !password.isEmpty {
            // The password apart from the URL, so one secret file can serve PostgreSQL and Ferry.
            guard let url = c.databaseURL, var parts = URLComponents(string: url) else {
                throw ConfigurationError(variable: "FERRY_DATABASE_PASSWORD", message: "needs DATABASE_URL (postgres://user@host/db) to add the password to")
            }
            guard parts.password == nil else {
                throw ConfigurationError(variable: "FERRY_DATABASE_PASSWORD", message: "DATABASE_URL already has a password: keep one of the two")
            }
            parts.password = password
            c.databaseURL = parts.string
        }
        if let v = env["FERRY_DATA_DIR"], !v.isEmpty { c.dataDirectory = v }
        if let v = env["FERRY_SECRET_KEY"], !v.isEmpty {
            guard let data = Data(base64Encoded: v), data.count == 32 else {
                throw ConfigurationError(variable: "FERRY_SECRET_KEY", message: "must be base64 of 32 random bytes (openssl rand -base64 32)")
            }
            c.secretKey = v
        }
        if let v = env["FERRY_SYNC_INTERVAL"], !v.isEmpty {
            guard let s = Double(v), s >= 0 else { throw ConfigurationError(variable: "FERRY_SYNC_INTERVAL", message: "must be seconds (0 disables), got '\(v)'") }
            c.syncInterval = s
        }
        if let v = env["FERRY_SUPERSET_TIMEOUT"], !v.isEmpty {
            guard let s = Double(v), s > 0 else { throw ConfigurationError(variable: "FERRY_SUPERSET_TIMEOUT", message: "must be positive seconds") }
            c.supersetTimeout = s
        }
        func positiveInt(_ name: String) throws -> Int? {
            guard let v = env[name], !v.isEmpty else { return nil }
            guard let n = Int(v), n > 0 else { throw ConfigurationError(variable: name, message: "must be a whole number above 0, got '\(v)'") }
            return n
        }
        if let n = try positiveInt("FERRY_TASK_WORKERS") { c.tasks.concurrency = n }
        if let n = try positiveInt("FERRY_TASK_PER_ENVIRONMENT") { c.tasks.perEnvironmentLimit = n }
        if let n = try positiveInt("FERRY_TASK_LEASE") { c.tasks.lease = Double(n) }
        if let n = try positiveInt("FERRY_TASK_INPUT_TIMEOUT") { c.tasks.inputTimeout = Double(n) }
        if let v = env["FERRY_NODE_ID"], !v.isEmpty { c.tasks.nodeID = v }
        if let v = env["FERRY_LOG_LEVEL"], !v.isEmpty {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(v) else {
                throw ConfigurationError(variable: "FERRY_LOG_LEVEL", message: "must be one of \(levels.joined(separator: ", ")), got '\(v)'")
            }
            c.logLevel = v
        }
        if let v = env["FERRY_PUBLIC_URL"], !v.isEmpty {
            guard isHTTPAddress(v), v.hasPrefix("http://") || v.hasPrefix("https://") else {
                throw ConfigurationError(variable: "FERRY_PUBLIC_URL", message: "must be an http(s) address without credentials, such as https://ferry.example.com")
            }
            c.publicURL = v.hasSuffix("/") ? String(v.dropLast()) : v
        }
        if let n = try positiveInt("FERRY_SESSION_HOURS") { c.sessionHours = Double(n) }
        if let v = env["FERRY_BCRYPT_COST"], !v.isEmpty {
            guard let n = Int(v), (4...31).contains(n) else { throw ConfigurationError(variable: "FERRY_BCRYPT_COST", message: "must be 4-31, got '\(v)'") }
            c.bcryptCost = n
        }
        if let v = env["FERRY_ADMIN_PASSWORD"], !v.isEmpty {
            guard v.count >= PasswordHasher.minimumLength else {
                throw ConfigurationError(variable: "FERRY_ADMIN_PASSWORD", message: "must be at least \(PasswordHasher.minimumLength) characters")
            }
            c.adminPassword = v
        }
        if let v = env["FERRY_ADMIN_USERNAME"], !v.isEmpty { c.adminUsername = v }
        if let v = env["FERRY_LANGUAGE"], !v.isEmpty {
            guard Localizer.languages.contains(v) else {
                throw ConfigurationError(variable: "FERRY_LANGUAGE", message: "must be one of \(Localizer.languages.joined(separator: ", "))")
            }
            c.defaultLanguage = v
        }
        if let v = env["FERRY_CHROMIUM"], !v.isEmpty {
            guard v.hasPrefix("/") else { throw ConfigurationError(variable: "FERRY_CHROMIUM", message: "must be an absolute path to chromium, got '\(v)'") }
            c.health.chromium = v
        }
        if let n = try positiveInt("FERRY_HEALTH_SCREENSHOT_QUOTA_MB") { c.health.screenshotQuotaBytes = Int64(min(n, 1 << 30)) << 20 }
        if let n = try positiveInt("FERRY_HEALTH_RETENTION_DAYS") { c.health.retentionDays = min(n, 36500) }
        if let n = try positiveInt("FERRY_HEALTH_RENDER_TIMEOUT") { c.health.chartsTimeout = Double(min(n, 3600)) }
        if let v = env["FERRY_REPORTS_RETENTION_DAYS"], !v.isEmpty {
            guard let n = Int(v), (1...3650).contains(n) else {
                throw ConfigurationError(variable: "FERRY_REPORTS_RETENTION_DAYS", message: "must be 1-3650 days, got '\(v)'")
            }
            c.reportsRetentionDays = n
        }
        c.hardening = try HardeningConfiguration.from(environment: env)
        if let v = env["FERRY_STORAGE"], !v.isEmpty { c.storagePath = v }
        if let v = env["FERRY_MAX_UPLOAD_BYTES"], !v.isEmpty {
            guard let n = Int(v), (1024...(4 << 30)).contains(n) else {
                throw ConfigurationError(variable: "FERRY_MAX_UPLOAD_BYTES", message: "must be bytes between 1024 and 4294967296, got '\(v)'")
            }
            c.maxUploadBytes = n
        }
        if let v = env["FERRY_BACKUP_FULL_EVERY_DAYS"], !v.isEmpty {
            guard let n = Int(v), (1...365).contains(n) else {
                throw ConfigurationError(variable: "FERRY_BACKUP_FULL_EVERY_DAYS", message: "must be 1-365 days, got '\(v)'")
            }
            c.fullBackupEveryDays = n
        }
        if let v = env["FERRY_BACKUP_COLLECT_GRACE"], !v.isEmpty {
            guard let n = Double(v), n >= 0, n <= 30 * 86_400 else {
                throw ConfigurationError(variable: "FERRY_BACKUP_COLLECT_GRACE", message: "must be seconds (0 to 2592000), got '\(v)'")
            }
            c.backupCollectGrace = n
        }
        return c
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var variable: String
    public var message: String
    public var description: String { "\(variable) \(message)" }
}

/// Dashboard checks' settings.
public struct HealthConfiguration: Sendable {
    /// The chromium the checks render with; a check without it says so and checks queries only.
    public var chromium = "/usr/bin/chromium"
    /// Screenshots kept at most, bytes: past it, the oldest go first (never a dashboard's last
    /// passing one, which later checks compare with).
    public var screenshotQuotaBytes: Int64 = 1 << 30
    /// Days screenshots are kept (the check's row stays).
    public var retentionDays = 30
    /// Seconds for one DevTools command (navigation, screenshot), and for one tab's charts to
    /// stop loading (`FERRY_HEALTH_RENDER_TIMEOUT`).
    public var commandTimeout: Double = 30
    public var chartsTimeout: Double = 45
    /// Seconds one attempt of an LLM review may take (each review is tried three times).
    public var llmTimeout: Double = 60
    public init() {}
}
