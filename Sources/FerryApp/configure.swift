import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import NIOPosix
import SQLKit
import SupersetKit
import Vapor

/// Wires Ferry into a Vapor application.
///
/// - Parameters:
///   - dependencies: side effects; nil means the live ones (system clock, AsyncHTTPClient).
///   - migrate: apply pending schema migrations now (the server does; `ferry migrate` does it alone).
///   - startBackgroundWork: start the periodic inventory sync (the server does; commands and most tests don't).
/// Side effects: creates the data directory and, on first use, the key file; opens the store.
public func configure(
    _ app: Application, configuration: FerryConfiguration, dependencies: FerryDependencies? = nil, migrate: Bool = true,
    startBackgroundWork: Bool = false, startTaskEngine: Bool = false, extraPlugins: [any Plugin] = []
) async throws {
    app.ferryConfiguration = configuration
    app.http.server.configuration.hostname = configuration.host
    app.http.server.configuration.port = configuration.port
    app.logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    app.routes.defaultMaxBodySize = "1mb"
    FerryMetrics.bootstrap()
    FerryJSON.install()

    try DataDirectory.prepare(configuration)
    app.secretBox = try SecretBox.load(configuration: configuration)

    var listen: (configuration: PostgresConnection.Configuration, eventLoop: any EventLoop)?
    if let url = configuration.databaseURL {
        // Its error would quote the URL, password included: name the variable instead.
        guard var pg = try? SQLPostgresConfiguration(url: url) else {
            throw ConfigurationError(variable: "DATABASE_URL", message: "is not a usable PostgreSQL address (postgres://user@host:5432/db): check its form and query options")
        }
        pg.searchPath = nil
        listen = (pg.coreConfiguration, app.eventLoopGroup.any())
        app.databases.use(.postgres(configuration: pg, maxConnectionsPerEventLoop: 4), as: .psql)
    } else {
        // SQLite runs its blocking calls on the app's thread pool, and a statement waiting on
        // SQLite's lock holds its thread; with the process-wide two-thread default, waiters
        // could starve the lock's holder. Ferry gives SQLite a pool of its own.
        app.threadPool = NIOThreadPool(numberOfThreads: 8)
        // One connection per event loop (the driver's shorthand ignores more), shared by requests,
        // workers, log flushes and heartbeats. A request that gives up waiting while a connection
        // is being opened leaks it (SQLiteNIO asserts on the unclosed connection), so wait long.
        app.databases.use(.sqlite(.file(configuration.sqlitePath), connectionPoolTimeout: .seconds(120)), as: .sqlite)
        // Task log batches get connections of their own: a 10,000-line flush then holds only
        // SQLite's write lock, not the connection a request's read is waiting for (WAL lets
        // readers through while a writer writes).
        app.databases.use(.sqlite(.file(configuration.sqlitePath), connectionPoolTimeout: .seconds(120)), as: .taskLogs, isDefault: false)
    }
    app.migrations.add(M0001_CreateEnvironments())
    app.migrations.add(M0002_CreateInventory())
    app.migrations.add(M0003_CreateTasks())
    app.migrations.add(M0004_CreatePromotions())
    app.migrations.add(M0005_CreateAccounts())
    app.migrations.add(M0006_AddInventoryOwnerUsernames())
    app.migrations.add(M0007_AddEnvironmentParallelRequests())
    app.migrations.add(M0008_EnvironmentIdentity())
    app.migrations.add(M0009_AddSignInBindings())
    app.migrations.add(M0010_CreateBackups())
    app.migrations.add(M0011_CreateGitHistory())
    app.migrations.add(M0012_CreateDashboardChecks())
    app.migrations.add(M0013_CreateLLMProviders())
    app.migrations.add(M0014_CreateReports())
    app.migrations.add(M0015_AddPlanVersions())
    app.migrations.add(M0016_AddTaskFinishedIndex())
    if !configuration.usesPostgres, let sql = app.db as? any SQLDatabase {
        // Readers don't wait for writers, and writers don't wait for readers.
        _ = try await sql.raw("PRAGMA journal_mode=WAL").all()
    }
    if migrate { try await app.autoMigrate() }

    if let dependencies {
        app.ferry = dependencies
    } else {
        let transport = AsyncHTTPClientTransport()
        app.supersetTransport = transport
        app.ferry = .live(transport: transport)
    }
    app.authenticator = Authenticator(ttl: configuration.authCacheSeconds)
    try configureHardening(app, configuration: configuration)
    if migrate, let password = configuration.adminPassword {
        try await AdminBootstrap.ensureFirstAdmin(username: configuration.adminUsername, password: password, app: app)
    }
    let index = InventoryIndex()
    app.inventoryIndex = index
    app.syncCoordinator = SyncCoordinator(databases: { [app] in app.db }, engine: { [app] in app.taskEngine }, logger: app.logger)
    let storage = app.backupStorage
    if configuration.usesPostgres && configuration.storagePath == nil {
        app.logger.warning("several Ferry processes sharing PostgreSQL must share one backup storage: set FERRY_STORAGE to a shared folder",
                           metadata: ["storage": .string(storage.root.path)])
    }
    do { try storage.prepare() } catch {
        // Ferry still serves everything else; each backup task fails with the same message.
        app.logger.error("backup storage unusable: \(error)", metadata: ["storage": .string(storage.root.path)])
    }
    let git = app.gitHistory
    do {
        let cleaned = try await git.repository.prepare()
        if !cleaned.isEmpty {
            app.logger.warning("git history: recovered after an unclean stop (\(cleaned.joined(separator: ", ")) removed)", metadata: ["repository": .string(git.repository.root.path)])
        }
    } catch {
        // Everything else works; backups warn and git tasks fail with the same message.
        app.logger.error("git history unusable: \(error)", metadata: ["repository": .string(git.repository.root.path)])
    }
    var backup = BackupRunPlugin(storage: storage, fullEveryDays: configuration.fullBackupEveryDays, grace: configuration.backupCollectGrace)
    backup.git = git
    let checker = DashboardCheckPlugin(screenshots: app.healthScreenshots, configuration: configuration.health,
                                       scratch: URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("chromium"),
                                       llm: LLMReview(client: LLMClient(web: app.ferry.web), box: app.secretBox, timeout: configuration.health.llmTimeout))
    // A promotion, restore or rollback wrote to an environment: its inventory is synced again.
    let resync: @Sendable (UUID) async -> Void = { [app] environment in await app.syncCoordinator.trigger(environment) }
    var registry = PluginRegistry([
        HealthCheckPlugin(), PruneTasksPlugin(now: app.ferry.now, healthRetentionDays: configuration.health.retentionDays,
                                            reportsRetentionDays: configuration.reportsRetentionDays), SleepPlugin(), InventorySyncPlugin(onFinish: { index.invalidate() }),
        PromotePlanPlugin(storage: storage, git: git), PromoteApplyPlugin(recorder: backup, afterWrite: resync), PromoteRollbackPlugin(recorder: backup, afterWrite: resync),
        backup, BackupVerifyPlugin(storage: storage), BackupRetentionPlugin(storage: storage, grace: configuration.backupCollectGrace),
        GitSnapshotPlugin(backup: backup), GitDriftPlugin(), GitPushPlugin(git: git), GitPullPlugin(git: git),
        checker,
        HealthPolicyPlugin(checker: checker, sender: NotificationSender(web: app.ferry.web, group: app.eventLoopGroup), box: app.secretBox,
                           publicURL: configuration.publicURL),
    ])
    for plugin in extraPlugins { registry.register(plugin) }
    app.taskEngine = TaskEngine(
        configuration: configuration.tasks, registry: registry, databases: { [app] in app.db },
        logDatabase: { @Sendable [app, usesPostgres = configuration.usesPostgres] in usesPostgres ? app.db : app.db(.taskLogs) },
        dependencies: app.ferry,
        box: app.secretBox, supersetTimeout: configuration.supersetTimeout, logger: app.logger, listen: listen)
    app.lifecycle.use(FerryLifecycle())
    if startBackgroundWork || startTaskEngine {
        try await BuiltInSchedules.ensure(registry: registry, now: app.ferry.now(), id: app.ferry.uuid(), on: app.db)
        try await BuiltInSchedules.ensureBackupSchedules(registry: registry, now: app.ferry.now(), newID: app.ferry.uuid, on: app.db)
        try await app.taskEngine.start()
    }
    if startBackgroundWork {
        await app.syncCoordinator.startPeriodic(interval: configuration.syncInterval)
    }

    app.middleware = Middlewares()
    app.middleware.use(SecurityHeadersMiddleware())
    app.middleware.use(MetricsMiddleware())
    app.middleware.use(LanguageMiddleware(fallback: configuration.defaultLanguage))
    app.middleware.use(AuditMiddleware())
    app.middleware.use(ProblemMiddleware())
    if let publicDir = Bundle.module.url(forResource: "Public", withExtension: nil, subdirectory: "Resources") {
        app.middleware.use(FileMiddleware(publicDirectory: publicDir.path + "/"))
    }
    app.middleware.use(AuthMiddleware())
    app.healthFailureCount = HealthFailureCount(now: app.ferry.now)
    app.middleware.use(NavCountsMiddleware())

    EnvironmentsAPI.register(app)
    InventoryAPI.register(app)
    OperationsAPI.register(app)
    TasksAPI.register(app)
    SchedulesAPI.register(app)
    PromotionsAPI.register(app)
    BackupsAPI.register(app)
    GitAPI.register(app)
    HealthAPI.register(app)
    HealthPoliciesAPI.register(app)
    LLMProvidersAPI.register(app)
    ReportsAPI.register(app)
    TaskStreams.register(app)
    EnvironmentsPages.register(app)
    DashboardsPages.register(app)
    TasksPages.register(app)
    SchedulesPages.register(app)
    PromotionPages.register(app)
    BackupPages.register(app)
    GitPages.register(app)
    HealthPages.register(app)
    HealthPolicyPages.register(app)
    ChannelPages.register(app)
    ReportPages.register(app)
    LLMProviderPages.register(app)
    AccountsAPI.register(app)
    AuthPages.register(app)
    ProfilePages.register(app)
    AdminPages.register(app)

    app.asyncCommands.use(EnvCommand(), as: "env")
    app.asyncCommands.use(PromoteCommand(), as: "promote")
    app.asyncCommands.use(BackupCommand(), as: "backup")
    app.asyncCommands.use(RestoreCommand(), as: "restore")
    app.asyncCommands.use(FerryMigrateCommand(), as: "migrate")
    app.asyncCommands.use(AdminCommand(), as: "admin")
}

/// Stops background work and HTTP clients when the application shuts down.
struct FerryLifecycle: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await application.syncCoordinator.shutdown()
        await application.taskEngine.shutdown()
        try? await application.supersetTransport?.shutdown()
    }
}

extension DatabaseID {
    /// SQLite only: the connections task log batches are written on.
    static let taskLogs = DatabaseID(string: "task-logs")
}
