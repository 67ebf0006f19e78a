import Fluent
import Foundation
import SupersetKit

/// What a client sends to deploy a revision of Ferry's git history: a promotion whose source
/// is a commit (the dashboards as the source environment's folder held them then).
struct DeployInput: Codable, Sendable {
    /// A commit: full or abbreviated sha, `HEAD` or `HEAD~n`.
    var revision: String?
    /// The environment whose folder the dashboards are read from (id or name).
    var source: String?
    /// The environment to deploy into (id or name): the same one (going back) or another.
    var target: String?
    /// Dashboards by uuid, slug or title as the history knows them.
    var dashboards: [String]?
    /// Source schema -> target schema.
    var schemaMapping: [String: String]?
    /// As `PlanInput.acceptUnknownVersion`.
    var acceptUnknownVersion: Bool?
}

extension PromotionService {
    /// Validates a deploy (every bad field named at once), lets `authorize` judge the resolved
    /// source and target (as a promotion's plan: `promote:plan` on both), then records a plan
    /// whose source is the revision (scope `cascade`: the revision's charts and datasets come
    /// too) and queues its task. Planned, applied, verified and rolled back like any promotion.
    static func deploy(_ input: DeployInput, git: GitHistory, user: String, engine: TaskEngine, now: Date, newID: UUID, on db: Database,
                       authorize: (_ source: EnvironmentRef, _ target: EnvironmentRef) async throws -> Void) async throws -> PromotionPlanModel {
        var errors: [FieldError] = []
        var pair: (source: EnvironmentRef, target: EnvironmentRef)?
        do { pair = try await MappingService.pair(source: input.source, target: input.target, allowSame: true, on: db) } catch let e as AppError { errors += e.fields }
        var sha: String?
        let revision = input.revision?.trimmingCharacters(in: .whitespaces) ?? ""
        if revision.isEmpty {
            errors.append(FieldError(field: "revision", code: "required", key: "revision_required"))
        } else if !GitRepository.isRevision(revision) {
            errors.append(FieldError(field: "revision", code: "invalid", key: "revision"))
        } else {
            sha = try await git.repository.resolve(revision)
            if sha == nil { errors.append(FieldError(field: "revision", code: "unknown", key: "no_commit_list", ["revision": revision])) }
        }
        let wanted = (input.dashboards ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if wanted.isEmpty { errors.append(FieldError(field: "dashboards", code: "required", key: "pick_deploy_dashboards")) }
        if wanted.count > 1000 { errors.append(FieldError(field: "dashboards", code: "too_many", key: "at_most_deploy_dashboards", ["max": "1000"])) }
        if wanted.contains(where: { $0.count > 255 }) { errors.append(FieldError(field: "dashboards", code: "too_long", key: "at_most_chars_each", ["max": "255"])) }
        errors += PromotionService.schemaMappingErrors(input.schemaMapping)
        var uuids: [String] = []
        if let source = pair?.source, !wanted.isEmpty, wanted.count <= 1000 {
            let rows = try await GitDashboardModel.query(on: db).filter(\.$environmentID == source.id).all()
            var unknown: [String] = []
            for w in wanted {
                let lower = w.lowercased()
                if let row = rows.first(where: { $0.dashboardUUID == lower || $0.dir.split(separator: "/").last.map(String.init) == lower || $0.title == w }) {
                    uuids.append(row.dashboardUUID)
                } else if UUID(uuidString: w) != nil {
                    uuids.append(lower)  // deleted from Superset since: its files may still be in the revision
                } else {
                    unknown.append(w)
                }
            }
            if !unknown.isEmpty {
                errors.append(FieldError(field: "dashboards", code: "unknown", key: "history_lacks_dashboards",
                                         ["environment": source.name, "dashboards": unknown.prefix(5).map { "'\($0)'" }.joined(separator: ", ")]))
            }
        }
        guard errors.isEmpty, let (source, target) = pair, let sha else { throw AppError.validation(errors) }
        try await authorize(source, target)

        var seen = Set<String>()
        let plan = PromotionPlanModel()
        plan.id = newID
        plan.sourceEnvID = source.id
        plan.targetEnvID = target.id
        plan.sourceRevision = sha
        plan.scope = PromotionScope.cascade.rawValue
        plan.selection = String(decoding: try JSONEncoder().encode(PlanSelection(dashboards: uuids.filter { seen.insert($0).inserted }, search: nil)), as: UTF8.self)
        plan.schemaMapping = String(decoding: try JSONEncoder().encode(input.schemaMapping ?? [:]), as: UTF8.self)
        plan.acceptUnknownVersion = input.acceptUnknownVersion ?? false
        plan.status = .planning
        plan.createdBy = user
        plan.createdAt = now
        try await recordAndQueue(plan, params: ["source": .string(source.id.key), "target": .string(target.id.key)], engine: engine, user: user, on: db)
        return plan
    }
}
