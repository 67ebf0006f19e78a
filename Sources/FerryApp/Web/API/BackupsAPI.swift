import Fluent
import Foundation
import SupersetKit
import Vapor

extension Application {
    /// The backup storage (`FERRY_STORAGE`, by default `storage` in the data directory).
    var backupStorage: BackupStorage { BackupStorage(root: ferryConfiguration.storageDirectory, pool: threadPool) }
    var healthScreenshots: HealthScreenshots { HealthScreenshots(storageRoot: ferryConfiguration.storageDirectory) }
    /// The git history under the storage folder (`<FERRY_STORAGE>/git`).
    var gitHistory: GitHistory {
        let root = URL(fileURLWithPath: ferryConfiguration.storageDirectory)
        return GitHistory(repository: GitRepository(root: root.appendingPathComponent("git")), storage: backupStorage,
                          remote: GitRemoteStore(box: secretBox, credentialsDir: root.appendingPathComponent("git-credentials")))
    }
}

extension BackupDTO: Content {}
extension BackupAssetDTO: Content {}
extension BackupDiff: Content {}
extension RetentionPolicy: Content {}
extension BackupPolicyDTO: Content {}

/// `/api/backups…` and `/api/restores`: thin handlers over `BackupService` and
/// `PromotionService.restore`. Every check is made on the stored backup's environment.
enum BackupsAPI {
    static func register(_ app: Application) {
        app.get(.api(.backups), use: list)
        app.post(.api(.backups), use: run)
        app.get(.api(.backup(.key)), use: show)
        app.delete(.api(.backup(.key)), use: delete)
        app.get(.api(.backupAssets(.key)), use: assets)
        app.get(.api(.backupDownload(.key)), use: download)
        app.post(.api(.backupPin(.key)), use: pin)
        app.post(.api(.backupsUpload), body: .collect(maxSize: ByteCount(value: app.ferryConfiguration.maxUploadBytes)), use: upload)
        app.get(.api(.backupsDiff), use: diff)
        app.post(.api(.backupsVerify), use: verify)
        app.get(.api(.backupPolicy), use: policy)
        app.put(.api(.backupPolicy), use: savePolicy)
        app.post(.api(.restores), use: restore)
        app.get(.api(.restores), use: restores)
    }

    struct Queued: Content {
        var taskId: UUID
        var status: String
    }

    struct RunInput: Content {
        var environment: String?
        var full: Bool?
    }

    @Sendable static func run(req: Request) async throws -> Response {
        let input = try req.content.decode(RunInput.self)
        let env = try await req.environmentNamed(input.environment, field: "environment")
        try req.authorize(.backupRun, environment: env)
        var params: [String: BundleValue] = ["environment": .string(env.id.key)]
        if let full = input.full { params["full"] = .bool(full) }
        return try await req.queueTask("backup.run", params: params)
    }

    struct ListResponse: Content { var items: [BackupDTO] }

    @Sendable static func list(req: Request) async throws -> ListResponse {
        struct Q: Decodable { var environment: String?; var page: Int?; var per_page: Int? }
        let q: Q
        do { q = try req.query.decode(Q.self) } catch {
            throw AppError.validation([FieldError(field: "page", code: "invalid", key: "page_numbers")])
        }
        var environment: UUID?
        if let e = q.environment, !e.isEmpty {
            let env = try await req.environmentNamed(e, field: "environment")
            try req.authorize(.inventoryRead, environment: env)
            environment = env.id
        }
        let rows = try await BackupService.list(environment: environment, visible: try await req.visibleEnvironments(.inventoryRead),
                                                page: try Paging(page: q.page, perPage: q.per_page), on: req.db)
        let names = try await req.environmentDirectory()
        return ListResponse(items: rows.map { BackupDTO($0, names: names) })
    }

    @Sendable static func show(req: Request) async throws -> BackupDTO {
        BackupDTO(try await req.readableBackup(try req.idParameter()), names: try await req.environmentDirectory())
    }

    @Sendable static func delete(req: Request) async throws -> HTTPStatus {
        let row = try await req.readableBackup(try req.idParameter())
        try await req.authorize(.backupRun, environmentIDs: [row.environmentID])
        try await BackupService.delete(row, storage: req.application.backupStorage, on: req.db)
        try await req.noteAudit(action: "backup.delete", on: row, detail: BackupService.describe(row))
        return .noContent
    }

    struct AssetsResponse: Content {
        var items: [BackupAssetDTO]
        var total: Int
    }

    @Sendable static func assets(req: Request) async throws -> AssetsResponse {
        struct Q: Decodable { var kind: String?; var search: String?; var page: Int?; var per_page: Int? }
        let q: Q
        do { q = try req.query.decode(Q.self) } catch {
            throw AppError.validation([FieldError(field: "page", code: "invalid", key: "page_numbers")])
        }
        var kind: AssetKind?
        if let k = q.kind, !k.isEmpty {
            guard let parsed = AssetKind(rawValue: k) else {
                throw AppError.validation([FieldError(field: "kind", code: "invalid", key: "backup_kind")])
            }
            kind = parsed
        }
        let row = try await req.readableBackup(try req.idParameter())
        let manifest = try BackupService.readableManifest(of: row, storage: req.application.backupStorage)
        let found = BackupAssetDTO.search(manifest, kind: kind, search: q.search)
        let paging = try Paging(page: q.page, perPage: q.per_page)
        return AssetsResponse(items: Array(found.dropFirst(paging.range.lowerBound).prefix(paging.range.count)), total: found.count)
    }

    @Sendable static func download(req: Request) async throws -> Response {
        struct Q: Decodable { var dashboard: String? }
        let q = try req.query.decode(Q.self)
        let row = try await req.readableBackup(try req.idParameter())
        let storage = req.application.backupStorage
        let selection = (q.dashboard ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let data = try await req.application.threadPool.runIfActive(eventLoop: req.eventLoop) {
            try BackupService.archive(row, dashboards: selection, storage: storage)
        }.get()
        let response = Response(status: .ok, body: .init(data: data))
        response.headers.contentType = .zip
        let name = (selection.isEmpty ? "backup" : "dashboard") + "-\(row.id!.key.prefix(8)).zip"
        response.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name)\"")
        return response
    }

    struct PinInput: Content { var pinned: Bool? }

    @Sendable static func pin(req: Request) async throws -> BackupDTO {
        let input = try req.decodeOptionalBody(PinInput.self) ?? PinInput()
        let row = try await req.readableBackup(try req.idParameter())
        try await req.authorize(.backupRun, environmentIDs: [row.environmentID])
        try await BackupService.setPinned(row, input.pinned ?? true, on: req.db)
        try await req.noteAudit(action: row.pinned ? "backup.pin" : "backup.unpin", on: row)
        return BackupDTO(row, names: try await req.environmentDirectory())
    }

    /// The body is the ZIP itself (`Content-Type: application/zip`) or a multipart form with a
    /// `file` field; `?environment=` names the environment it is a backup of.
    @Sendable static func upload(req: Request) async throws -> Response {
        struct Q: Decodable { var environment: String? }
        let env = try await req.environmentNamed(try req.query.decode(Q.self).environment, field: "environment")
        try req.authorize(.backupRun, environment: env)
        let data = try req.uploadedFile()
        let app = req.application
        let storage = app.backupStorage
        let (now, id, user, max) = (app.ferry.now(), app.ferry.uuid(), req.userName, app.ferryConfiguration.maxUploadBytes)
        let row = try await BackupService.upload(data, environment: env, user: user, storage: storage, maxBytes: max, now: now, newID: id, on: req.db)
        let dto = BackupDTO(row, names: try await req.environmentDirectory())
        let response = try await dto.encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.backup(.value(row.id!))).path)
        return response
    }

    @Sendable static func diff(req: Request) async throws -> BackupDiff {
        struct Q: Decodable { var from: String?; var to: String? }
        let q = try req.query.decode(Q.self)
        var errors: [FieldError] = []
        let from = q.from.flatMap(UUID.init(uuidString:)), to = q.to.flatMap(UUID.init(uuidString:))
        if from == nil { errors.append(FieldError(field: "from", code: "required", key: "older_backup")) }
        if to == nil { errors.append(FieldError(field: "to", code: "required", key: "newer_backup")) }
        guard errors.isEmpty, let from, let to else { throw AppError.validation(errors) }
        let a = try await req.readableBackup(from), b = try await req.readableBackup(to)
        let storage = req.application.backupStorage
        return try await req.application.threadPool.runIfActive(eventLoop: req.eventLoop) { try BackupService.diff(a, b, storage: storage) }.get()
    }

    struct VerifyInput: Content { var backup: String? }

    @Sendable static func verify(req: Request) async throws -> Response {
        let input = try req.decodeOptionalBody(VerifyInput.self) ?? VerifyInput()
        var params: [String: BundleValue] = [:]
        if let b = input.backup, !b.isEmpty {
            guard let id = UUID(uuidString: b) else {
                throw AppError.validation([FieldError(field: "backup", code: "invalid", key: "backup_uuid")])
            }
            params["backup"] = .string(id.key)
        }
        let resolved = try await req.authorizeTask(plugin: "backup.verify", params: .map(params))
        let task = try await req.application.taskEngine.submit(pluginID: "backup.verify", params: resolved, user: req.userName, on: req.db)
        return try await Queued(taskId: task.id!, status: task.status).encodeResponse(status: .accepted, for: req)
    }

    @Sendable static func policy(req: Request) async throws -> BackupPolicyDTO {
        struct Q: Decodable { var environment: String? }
        let env = try await req.environmentNamed(try req.query.decode(Q.self).environment, field: "environment")
        try req.authorize(.inventoryRead, environment: env)
        return try await BackupPolicyDTO.load(env, on: req.db)
    }

    @Sendable static func savePolicy(req: Request) async throws -> BackupPolicyDTO {
        let input = try req.content.decode(BackupPolicyInput.self)
        let env = try await req.environmentNamed(input.environment, field: "environment")
        try req.authorize(.backupRun, environment: env)
        let app = req.application
        if let policy = input.retention {
            try await BackupService.savePolicy(policy, environment: env.id, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
        }
        if let schedule = input.schedule {
            try req.authorize(.schedulesWrite, environment: env)
            try await BackupSchedule.save(schedule, environment: env, registry: app.taskEngine.registry, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
        }
        return try await BackupPolicyDTO.load(env, on: req.db)
    }

    @Sendable static func restore(req: Request) async throws -> Response {
        let input = try req.content.decode(RestoreInput.self)
        let app = req.application
        let plan = try await PromotionService.restore(input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(),
                                                      on: req.db, authorize: req.authorizeRestore)
        let response = try await PromotionsAPI.Accepted(id: plan.id!, taskId: plan.taskID, status: plan.status).encodeResponse(status: .accepted, for: req)
        response.headers.replaceOrAdd(name: .location, value: SiteURL.api(.plan(.value(plan.id!))).path)
        return response
    }

    struct RestoresResponse: Content { var items: [PlanDTO] }

    /// Restore plans, newest first, of the environments the caller may restore into.
    @Sendable static func restores(req: Request) async throws -> RestoresResponse {
        struct Q: Decodable { var page: Int?; var per_page: Int? }
        let q: Q
        do { q = try req.query.decode(Q.self) } catch {
            throw AppError.validation([FieldError(field: "page", code: "invalid", key: "page_numbers")])
        }
        var query = PromotionPlanModel.query(on: req.db).filter(\.$sourceBackupID != nil).sort(\.$createdAt, .descending)
        if let visible = try await req.visibleEnvironments(.restoreRun) { query = query.filter(\.$targetEnvID ~~ Array(visible)) }
        let inventory = try await req.visibleEnvironments(.inventoryRead)
        let rows = try await query.range(try Paging(page: q.page, perPage: q.per_page).range).all()
            .filter { inventory == nil || inventory!.contains($0.sourceEnvID) }
        let names = try await req.environmentDirectory()
        return RestoresResponse(items: rows.map { PlanDTO($0, names: names) })
    }
}

extension Request {
    /// The stored backup `id`, when the caller holds `inventory:read` on its environment.
    func readableBackup(_ id: UUID) async throws -> BackupModel {
        let row = try await BackupService.find(id, on: db)
        try await authorize(.inventoryRead, environmentIDs: [row.environmentID])
        return row
    }

    /// The environment a request names by id or name, or a 422 naming `field`.
    func environmentNamed(_ value: String?, field: String) async throws -> EnvironmentRef {
        let v = value?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !v.isEmpty else { throw AppError.validation([FieldError(field: field, code: "required", key: "pick_environment")]) }
        guard let env = try await EnvironmentDirectory.load(on: db).resolve(v) else {
            throw AppError.validation([FieldError(field: field, code: "unknown", key: "no_environment", ["name": v])])
        }
        return env
    }

    /// Names what this write request did to a backup, for the one event the audit middleware records.
    func noteAudit(action: String, on row: BackupModel, detail: String? = nil) async throws {
        var note = audit
        note.action = action
        note.target = row.id!.key
        note.detail = detail
        note.environment = try await EnvironmentDirectory.load(on: db).byID[row.environmentID] ?? note.environment
        audit = note
    }

    /// An uploaded file: the raw body (a ZIP), or the `file` field of a multipart form.
    func uploadedFile() throws -> Data {
        guard let body = body.data, body.readableBytes > 0 else {
            throw AppError.validation([FieldError(field: "file", code: "required", key: "send_zip")])
        }
        if headers.contentType?.type == "multipart" {
            struct Form: Decodable { var file: File }
            guard let form = try? content.decode(Form.self) else {
                throw AppError.validation([FieldError(field: "file", code: "required", key: "no_file_field")])
            }
            return Data(buffer: form.file.data)
        }
        return Data(buffer: body)
    }
}
