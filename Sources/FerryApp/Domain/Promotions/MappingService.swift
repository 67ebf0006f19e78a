import Fluent
import Foundation
import SupersetKit

/// Stored database mappings per (source env, target env) pair, and suggestions for the rest.
enum MappingService {
    static func list(source: UUID?, target: UUID?, on db: Database) async throws -> [DatabaseMappingModel] {
        var q = DatabaseMappingModel.query(on: db)
        if let source { q = q.filter(\.$sourceEnvID == source) }
        if let target { q = q.filter(\.$targetEnvID == target) }
        return try await q.sort(\.$sourceEnvID).sort(\.$targetEnvID).sort(\.$sourceDatabaseName).all()
    }

    /// source db uuid -> stored mapping, for one pair.
    static func stored(source: UUID, target: UUID, on db: Database) async throws -> [String: DatabaseMappingModel] {
        Dictionary(try await list(source: source, target: target, on: db).map { ($0.sourceDatabaseUUID, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The source and target environments an input names (by id or name), or a 422 naming
    /// each field that is missing, unknown, or the same as the other.
    static func pair(source: String?, target: String?, allowSame: Bool = false, on db: Database) async throws -> (source: EnvironmentRef, target: EnvironmentRef) {
        let directory = try await EnvironmentDirectory.load(on: db)
        var errors: [FieldError] = []
        func resolve(_ value: String?, _ field: String) -> EnvironmentRef? {
            let v = value?.trimmingCharacters(in: .whitespaces) ?? ""
            if v.isEmpty {
                errors.append(FieldError(field: field, code: "required", key: "pick_\(field)"))
                return nil
            }
            guard let ref = directory.resolve(v) else {
                errors.append(FieldError(field: field, code: "unknown", key: "no_environment", ["name": v]))
                return nil
            }
            return ref
        }
        let s = resolve(source, "source"), t = resolve(target, "target")
        if let s, let t, s.id == t.id, !allowSame {
            errors.append(FieldError(field: "target", code: "same_environment", key: "same_environment"))
        }
        guard errors.isEmpty, let s, let t else { throw AppError.validation(errors) }
        return (s, t)
    }

    /// Creates or replaces the mapping of one source database for a pair. Every invalid field
    /// is named at once; `authorize` judges the resolved pair before anything is written.
    static func save(_ input: MappingInput, now: Date, newID: UUID, on db: Database,
                     authorize: (_ source: EnvironmentRef, _ target: EnvironmentRef) async throws -> Void) async throws -> DatabaseMappingModel {
        var errors: [FieldError] = []
        var pair: (source: EnvironmentRef, target: EnvironmentRef)?
        do { pair = try await Self.pair(source: input.source, target: input.target, on: db) } catch let e as AppError { errors += e.fields }
        func required(_ value: String?, _ field: String) -> String {
            let v = value?.trimmingCharacters(in: .whitespaces) ?? ""
            if v.isEmpty { errors.append(FieldError(field: field, code: "required", key: "named_required", ["field": field])) }
            if v.count > 255 { errors.append(FieldError(field: field, code: "too_long", key: "named_too_long", ["field": field, "max": "255"])) }
            return v
        }
        let sourceDB = required(input.sourceDatabaseUuid, "sourceDatabaseUuid"), targetDB = required(input.targetDatabaseUuid, "targetDatabaseUuid")
        guard errors.isEmpty, let (source, target) = pair else { throw AppError.validation(errors) }
        try await authorize(source, target)
        return try await record(source: source.id, target: target.id,
                                sourceDB: DatabaseRef(uuid: sourceDB, name: input.sourceDatabaseName ?? sourceDB, uri: ""),
                                targetDB: DatabaseRef(uuid: targetDB, name: input.targetDatabaseName ?? targetDB, uri: ""),
                                now: now, newID: newID, on: db)
    }

    static func record(source: UUID, target: UUID, sourceDB: DatabaseRef, targetDB: DatabaseRef, now: Date, newID: UUID, on db: Database) async throws
        -> DatabaseMappingModel
    {
        let existing = try await DatabaseMappingModel.query(on: db).filter(\.$sourceEnvID == source).filter(\.$targetEnvID == target)
            .filter(\.$sourceDatabaseUUID == sourceDB.uuid).first()
        let m = existing ?? DatabaseMappingModel()
        if existing == nil { m.id = newID }
        m.sourceEnvID = source
        m.targetEnvID = target
        m.sourceDatabaseUUID = sourceDB.uuid
        m.sourceDatabaseName = sourceDB.name
        m.targetDatabaseUUID = targetDB.uuid
        m.targetDatabaseName = targetDB.name
        m.updatedAt = now
        try await m.save(on: db)
        return m
    }

    static func find(_ id: UUID, on db: Database) async throws -> DatabaseMappingModel {
        guard let m = try await DatabaseMappingModel.find(id, on: db) else { throw AppError.notFound(.mapping, "\(id)") }
        return m
    }

    /// Every source database with its stored mapping (if it still exists on the target) and
    /// the target connections ranked for it.
    static func suggestions(source: UUID, target: UUID, sourceClient: SupersetClient, targetClient: SupersetClient, on db: Database) async throws
        -> [MappingSuggestionDTO]
    {
        async let sources = sourceClient.databaseRefs()
        async let targets = targetClient.databaseRefs()
        let (s, t) = try await (sources, targets)
        let stored = try await stored(source: source, target: target, on: db)
        return s.map { src in
            let mapped = stored[src.uuid].flatMap { m in t.first { $0.uuid == m.targetDatabaseUUID } }
            return MappingSuggestionDTO(source: src, mapped: mapped, suggestions: DatabaseMatcher.suggestions(for: src, among: t))
        }
    }
}
