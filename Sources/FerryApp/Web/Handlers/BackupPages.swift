import Fluent
import Foundation
import SupersetKit
import Vapor

/// The storage browser: environments with their backups, one environment's backups (back up
/// now, upload, retention, schedule, compare), one backup (contents, download, pin, verify,
/// delete, restore) and the comparison of two. Every check is made on the stored backup's or
/// environment's id, as in `BackupsAPI`; forms post and redirect, and a refused form is shown
/// again with why.
enum BackupPages {
    static func register(_ app: Application) {
        app.get(.backupsPage, use: overview)
        app.get(.backupsEnvironmentPage(.key), use: environment)
        app.post(.backupRunPage(.key), use: run)
        app.post(.backupUploadPage(.key), body: .collect(maxSize: ByteCount(value: app.ferryConfiguration.maxUploadBytes)), use: upload)
        app.post(.backupPolicyPage(.key), use: savePolicy)
        app.get(.backupDiffPage, use: diff)
        app.get(.backupPage(.key), use: show)
        app.post(.backupPinPage(.key), use: pin)
        app.post(.backupDeletePage(.key), use: delete)
        app.post(.backupVerifyPage(.key), use: verify)
        app.post(.backupRestorePage(.key), use: restore)
        // The same ZIP as the API's download (`?dashboard=` one dashboard's closure, else everything).
        app.get(.backupDownloadPage(.key), use: BackupsAPI.download)
    }

    // MARK: - Every environment

    @Sendable static func overview(req: Request) async throws -> Response {
        let visible = try await req.visibleEnvironments(.inventoryRead)
        let summary = try await BackupService.summary(visible: visible, on: req.db)
        let names = try await req.environmentDirectory()
        func row(_ id: UUID, name: String, stage: String?) -> BackupsPage.Model.Row {
            var r = BackupsPage.Model.Row(environmentID: id, environment: name, stage: stage)
            if let s = summary[id] {
                r.count = s.count
                r.totalBytes = s.bytes
                r.storedBytes = s.newBytes
                r.latest = s.latest
                r.corrupt = s.corrupt
            }
            return r
        }
        var rows = req.environments(.inventoryRead, in: names).map { row($0.id, name: $0.name, stage: $0.stage) }
        // Backups of environments deleted since stay listed: they can still be restored elsewhere.
        rows += summary.keys.filter { names.byID[$0] == nil }.map { row($0, name: names.name($0), stage: nil) }.sorted { $0.environment < $1.environment }
        return Layout.response(BackupsPage.View(model: BackupsPage.Model(rows: rows), localizer: req.localizer), request: req)
    }

    // MARK: - One environment

    /// The stored environment `:id` (404 when there is none).
    static func storedEnvironment(_ req: Request) async throws -> EnvironmentRef {
        try await EnvironmentService.find(try req.idParameter(), on: req.db).ref
    }

    /// The environment page's model: `inventory:read` on the environment (or, for one deleted
    /// since, a grant that still covers its id); 404 when it neither exists nor has backups.
    static func environmentModel(_ req: Request, id: UUID, page: Int = 1) async throws -> BackupsEnvironmentPage.Model {
        try await req.authorize(.inventoryRead, environmentIDs: [id])
        let names = try await req.environmentDirectory()
        let env = names.byID[id]
        let total = try await BackupModel.query(on: req.db).filter(\.$environmentID == id).count()
        if env == nil && total == 0 { throw AppError.notFound(.environment, "\(id.key)") }
        let perPage = BackupsEnvironmentPage.Model.perPage
        let rows = try await BackupService.list(environment: id, visible: nil, page: try Paging(page: page, perPage: perPage), on: req.db)
        var model = BackupsEnvironmentPage.Model(environmentID: id, environment: names.name(id), exists: env != nil,
                                                 backups: rows.map { BackupDTO($0, names: names) }, page: page,
                                                 pageCount: max(1, (total + perPage - 1) / perPage), total: total)
        guard let env else { return model }
        let policy = try await BackupPolicyDTO.load(env, on: req.db)
        model.retention = .init(policy.retention)
        if let s = policy.schedule {
            model.schedule = .init(cron: s.cron, timeZone: s.timeZone, enabled: s.enabled)
            model.hasSchedule = true
            model.nextRunAt = s.nextRunAt
        }
        model.canRun = req.permits(.backupRun, environment: env)
        model.canSchedule = model.canRun && req.permits(.schedulesWrite, environment: env)
        return model
    }

    /// The environment page again, changed by `adjust` (a refused form's input and errors).
    static func environmentResponse(_ req: Request, id: UUID, status: HTTPResponseStatus,
                                    _ adjust: (inout BackupsEnvironmentPage.Model) -> Void) async throws -> Response {
        var model = try await environmentModel(req, id: id)
        adjust(&model)
        let response = Layout.response(BackupsEnvironmentPage.View(model: model, localizer: req.localizer), request: req)
        response.status = status
        return response
    }

    @Sendable static func environment(req: Request) async throws -> Response {
        let page = (try? req.query.get(Int.self, at: "page")) ?? 1
        var model = try await environmentModel(req, id: try req.idParameter(), page: page)
        let done = try? req.query.get(String.self, at: "done")
        model.flash = done.flatMap { ["uploaded", "deleted", "retention_saved", "schedule_saved"].contains($0) ? req.localizer.t("backups.flash.\($0)") : nil }
        return Layout.response(BackupsEnvironmentPage.View(model: model, localizer: req.localizer), request: req)
    }

    /// Queues `backup.run` (full when ticked) and opens its task.
    @Sendable static func run(req: Request) async throws -> Response {
        struct Form: Decodable { var full: String? }
        let f = (try? req.content.decode(Form.self)) ?? Form()
        let env = try await storedEnvironment(req)
        try req.authorize(.backupRun, environment: env)
        var params: [String: BundleValue] = ["environment": .string(env.id.key)]
        if f.full == "true" { params["full"] = .bool(true) }
        do {
            let task = try await req.application.taskEngine.submit(pluginID: "backup.run", params: .map(params), user: req.userName, on: req.db)
            return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict || e.status == .tooManyRequests
            || e.status == .serviceUnavailable {
            return try await environmentResponse(req, id: env.id, status: e.status) { $0.runError = req.localizer.problemText(e) }
        }
    }

    /// Stores an uploaded Superset export ZIP (multipart field `file`) as a backup; anything
    /// else is refused with why, and nothing is stored.
    @Sendable static func upload(req: Request) async throws -> Response {
        let env = try await storedEnvironment(req)
        try req.authorize(.backupRun, environment: env)
        let app = req.application
        let (now, id, user, max) = (app.ferry.now(), app.ferry.uuid(), req.userName, app.ferryConfiguration.maxUploadBytes)
        do {
            let data = try req.uploadedFile()
            _ = try await BackupService.upload(data, environment: env, user: user, storage: app.backupStorage, maxBytes: max, now: now, newID: id, on: req.db)
            return req.redirect(to: SiteURL.backupsEnvironmentPage(.value(env.id)).path(query: ["done": "uploaded"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .serviceUnavailable {
            return try await environmentResponse(req, id: env.id, status: e.status) { $0.uploadError = req.localizer.problemText(e) }
        }
    }

    /// Saves the retention (`part=retention`) or the backup schedule (`part=schedule`, which
    /// needs `schedules:write` too).
    @Sendable static func savePolicy(req: Request) async throws -> Response {
        struct Form: Decodable {
            var part: String?
            var keepLast: String?
            var daily: String?
            var weekly: String?
            var monthly: String?
            var cron: String?
            var timeZone: String?
            var enabled: [String]?
        }
        let env = try await storedEnvironment(req)
        try req.authorize(.backupRun, environment: env)
        let f = try req.content.decode(Form.self)
        let app = req.application
        let l = req.localizer
        let back = SiteURL.backupsEnvironmentPage(.value(env.id))

        if f.part == "schedule" {
            try req.authorize(.schedulesWrite, environment: env)
            let typed = BackupsEnvironmentPage.Model.ScheduleForm(cron: f.cron ?? "", timeZone: f.timeZone ?? "", enabled: f.enabled?.contains("true") ?? false)
            do {
                let zone = typed.timeZone.trimmingCharacters(in: .whitespaces)
                try await BackupSchedule.save(BackupScheduleInput(cron: typed.cron.trimmingCharacters(in: .whitespaces), timeZone: zone.isEmpty ? "UTC" : zone,
                                                                  enabled: typed.enabled),
                                              environment: env, registry: app.taskEngine.registry, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
                return req.redirect(to: back.path(query: ["done": "schedule_saved"]), redirectType: .normal)
            } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
                let (errors, message) = fieldErrors(e, known: ["cron", "timeZone"], l)
                return try await environmentResponse(req, id: env.id, status: e.status) { m in
                    m.schedule = typed
                    m.scheduleErrors = errors
                    m.scheduleError = message
                }
            }
        }

        let typed = BackupsEnvironmentPage.Model.RetentionForm(keepLast: f.keepLast ?? "", daily: f.daily ?? "", weekly: f.weekly ?? "", monthly: f.monthly ?? "")
        do {
            var invalid: [FieldError] = []
            func number(_ text: String, _ field: String) -> Int {
                guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
                    invalid.append(FieldError(field: field, code: "invalid", message: l.t("backups.whole_number")))
                    return 0
                }
                return n
            }
            let policy = RetentionPolicy(keepLast: number(typed.keepLast, "keepLast"), daily: number(typed.daily, "daily"),
                                         weekly: number(typed.weekly, "weekly"), monthly: number(typed.monthly, "monthly"))
            if !invalid.isEmpty { throw AppError.validation(invalid) }
            try await BackupService.savePolicy(policy, environment: env.id, now: app.ferry.now(), newID: app.ferry.uuid(), on: req.db)
            return req.redirect(to: back.path(query: ["done": "retention_saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity {
            let (errors, message) = fieldErrors(e, known: ["keepLast", "daily", "weekly", "monthly"], l)
            return try await environmentResponse(req, id: env.id, status: e.status) { m in
                m.retention = typed
                m.retentionErrors = errors
                m.retentionError = message
            }
        }
    }

    /// A refused form's errors by field, and the message above the form: "correct the marked
    /// fields" when every error belongs to a field shown, else the error itself.
    static func fieldErrors(_ e: AppError, known: Set<String>, _ l: Localizer) -> ([String: String], String) {
        let errors = l.fieldMessages(e).filter { known.contains($0.key) }
        let allShown = !e.fields.isEmpty && e.fields.allSatisfy { known.contains($0.field) }
        return (errors, allShown ? l.t("environment_form.fix_fields") : l.problemText(e))
    }

    // MARK: - Two backups

    @Sendable static func diff(req: Request) async throws -> Response {
        struct Q: Decodable { var from: String?; var to: String? }
        let q = try req.query.decode(Q.self)
        var errors: [FieldError] = []
        let from = q.from.flatMap(UUID.init(uuidString:)), to = q.to.flatMap(UUID.init(uuidString:))
        if from == nil { errors.append(FieldError(field: "from", code: "required", message: req.localizer.t("backup_diff.pick_from"))) }
        if to == nil { errors.append(FieldError(field: "to", code: "required", message: req.localizer.t("backup_diff.pick_to"))) }
        guard errors.isEmpty, let from, let to else { throw AppError.validation(errors) }
        let a = try await req.readableBackup(from), b = try await req.readableBackup(to)
        let storage = req.application.backupStorage
        let result = try await req.application.threadPool.runIfActive(eventLoop: req.eventLoop) { try BackupService.diff(a, b, storage: storage) }.get()
        let names = try await req.environmentDirectory()
        let model = BackupDiffPage.Model(from: BackupDTO(a, names: names), to: BackupDTO(b, names: names), diff: result)
        return Layout.response(BackupDiffPage.View(model: model, localizer: req.localizer), request: req)
    }

    // MARK: - One backup

    /// The backup page's model: its contents filtered by `search` and `kind` (an unknown kind
    /// lists every kind), what the viewer may do, and where they may restore to.
    static func detailModel(_ req: Request, row: BackupModel, search: String, kind: String) async throws -> BackupDetailPage.Model {
        let names = try await req.environmentDirectory()
        let parsed = AssetKind(rawValue: kind)
        var model = BackupDetailPage.Model(backup: BackupDTO(row, names: names), search: search, kind: parsed?.rawValue ?? "")
        do {
            let manifest = try BackupService.readableManifest(of: row, storage: req.application.backupStorage)
            let found = BackupAssetDTO.search(manifest, kind: parsed, search: search)
            model.matching = found.count
            model.assets = Array(found.prefix(BackupDetailPage.Model.shownLimit))
        } catch let e as AppError {
            model.contentsError = req.localizer.problemText(e)
        }
        model.canRun = await req.permits(.backupRun, environmentIDs: [row.environmentID])
        model.targets = req.environments(.restoreRun, in: names).map { BackupDetailPage.Model.Target(id: $0.id, name: $0.name) }
        // Into its own environment unless the viewer picks another.
        if model.targets.contains(where: { $0.id == row.environmentID }) { model.restore.target = row.environmentID.key }
        return model
    }

    static func detailResponse(_ model: BackupDetailPage.Model, req: Request, status: HTTPResponseStatus = .ok) -> Response {
        let response = Layout.response(BackupDetailPage.View(model: model, localizer: req.localizer), request: req)
        response.status = status
        return response
    }

    @Sendable static func show(req: Request) async throws -> Response {
        struct Q: Decodable { var search: String?; var kind: String?; var done: String? }
        let q = (try? req.query.decode(Q.self)) ?? Q()
        let row = try await req.readableBackup(try req.idParameter())
        var model = try await detailModel(req, row: row, search: q.search ?? "", kind: q.kind ?? "")
        model.flash = q.done.flatMap { ["pinned", "unpinned"].contains($0) ? req.localizer.t("backup.flash.\($0)") : nil }
        return detailResponse(model, req: req)
    }

    @Sendable static func pin(req: Request) async throws -> Response {
        struct Form: Decodable { var pinned: String? }
        let f = (try? req.content.decode(Form.self)) ?? Form()
        let row = try await req.readableBackup(try req.idParameter())
        try await req.authorize(.backupRun, environmentIDs: [row.environmentID])
        let pinned = f.pinned != "false"
        try await BackupService.setPinned(row, pinned, on: req.db)
        try await req.noteAudit(action: pinned ? "backup.pin" : "backup.unpin", on: row)
        return req.redirect(to: SiteURL.backupPage(.value(row.id!)).path(query: ["done": pinned ? "pinned" : "unpinned"]), redirectType: .normal)
    }

    /// Deletes the backup only when the form's `confirm` box is ticked; otherwise the page says
    /// so and nothing is deleted.
    @Sendable static func delete(req: Request) async throws -> Response {
        struct Form: Decodable { var confirm: String? }
        let f = (try? req.content.decode(Form.self)) ?? Form()
        let row = try await req.readableBackup(try req.idParameter())
        try await req.authorize(.backupRun, environmentIDs: [row.environmentID])
        let confirmed = ["yes", "true", "on"].contains(f.confirm?.trimmingCharacters(in: .whitespaces).lowercased() ?? "")
        guard confirmed else {
            var model = try await detailModel(req, row: row, search: "", kind: "")
            model.deleteError = req.localizer.t("backup.delete_unconfirmed")
            return detailResponse(model, req: req, status: .unprocessableEntity)
        }
        try await BackupService.delete(row, storage: req.application.backupStorage, on: req.db)
        try await req.noteAudit(action: "backup.delete", on: row, detail: BackupService.describe(row))
        return req.redirect(to: SiteURL.backupsEnvironmentPage(.value(row.environmentID)).path(query: ["done": "deleted"]), redirectType: .normal)
    }

    /// Queues `backup.verify` of this backup and opens its task.
    @Sendable static func verify(req: Request) async throws -> Response {
        let row = try await req.readableBackup(try req.idParameter())
        let resolved = try await req.authorizeTask(plugin: "backup.verify", params: .map(["backup": .string(row.id!.key)]))
        let task = try await req.application.taskEngine.submit(pluginID: "backup.verify", params: resolved, user: req.userName, on: req.db)
        return req.redirect(to: SiteURL.taskPage(.value(task.id!)).path, redirectType: .normal)
    }

    /// Plans a restore of the ticked dashboards, charts and datasets (none: the whole backup)
    /// into the picked environment, and opens the plan to review and apply.
    @Sendable static func restore(req: Request) async throws -> Response {
        struct Form: Decodable {
            var target: String?
            var dashboards: [String]?
            var charts: [String]?
            var datasets: [String]?
            var search: String?
            var kind: String?
            var acceptUnknownVersion: String?
        }
        let row = try await req.readableBackup(try req.idParameter())
        let f = try req.content.decode(Form.self)
        let app = req.application
        let input = RestoreInput(backup: row.id!.key, target: f.target, dashboards: f.dashboards ?? [], charts: f.charts ?? [], datasets: f.datasets ?? [],
                                 acceptUnknownVersion: f.acceptUnknownVersion == "true")
        do {
            let plan = try await PromotionService.restore(input, user: req.userName, engine: app.taskEngine, now: app.ferry.now(), newID: app.ferry.uuid(),
                                                          on: req.db, authorize: req.authorizeRestore)
            return req.redirect(to: SiteURL.planPage(.value(plan.id!)).path, redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            var model = try await detailModel(req, row: row, search: f.search ?? "", kind: f.kind ?? "")
            model.restore = .init(target: f.target ?? "", picked: Set((f.dashboards ?? []) + (f.charts ?? []) + (f.datasets ?? [])))
            model.restoreError = req.localizer.problemText(e)
            return detailResponse(model, req: req, status: e.status)
        }
    }
}
