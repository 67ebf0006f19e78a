import Fluent
import Foundation
import SupersetKit

/// Stored database mappings per (source env, target env) pair, and suggestions for the rest.
enum MappingService {
    static func list(source: String?, target: String?, on db: Database) async throws -> [DatabaseMappingModel] {
        var q = DatabaseMappingModel.query(on: db)
        if let source { q = q.filter(\.$sourceEnv == source) }
        if let target { q = q.filter(\.$targetEnv == target) }
        return try await q.sort(\.$sourceEnv).sort(\.$targetEnv).sort(\.$sourceDatabaseName).all()
    }

    /// source db uuid -> stored mapping, for one pair.
    static func stored(source: String, target: String, on db: Database) async throws -> [String: DatabaseMappingModel] {
        Dictionary(try await list(source: source, target: target, on: db).map { ($0.sourceDatabaseUUID, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Creates or replaces the mapping of one source database for a pair.
    static func save(_ input: MappingInput, now: Date, newID: UUID, on db: Database) async throws -> DatabaseMappingModel {
        var errors: [FieldError] = []
        func required(_ value: String?, _ field: String) -> String {
            let v = value?.trimmingCharacters(in: .whitespaces) ?? ""
            if v.isEmpty { errors.append(FieldError(field: field, code: "required", message: "\(field) is required")) }
            return v
        }
        let source = required(input.source, "source"), target = required(input.target, "target")
        let sourceDB = required(input.sourceDatabaseUuid, "sourceDatabaseUuid"), targetDB = required(input.targetDatabaseUuid, "targetDatabaseUuid")
        if !source.isEmpty, source == target {
            errors.append(FieldError(field: "target", code: "same_environment", message: "the target must be another environment than the source"))
        }
        for (field, name) in [("source", source), ("target", target)] where !name.isEmpty {
            if try await EnvironmentModel.query(on: db).filter(\.$name == name).first() == nil {
                errors.append(FieldError(field: field, code: "unknown", message: "no environment named '\(name)'"))
            }
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        return try await record(source: source, target: target,
                                sourceDB: DatabaseRef(uuid: sourceDB, name: input.sourceDatabaseName ?? sourceDB, uri: ""),
                                targetDB: DatabaseRef(uuid: targetDB, name: input.targetDatabaseName ?? targetDB, uri: ""),
                                now: now, newID: newID, on: db)
    }

    static func record(source: String, target: String, sourceDB: DatabaseRef, targetDB: DatabaseRef, now: Date, newID: UUID, on db: Database) async throws
        -> DatabaseMappingModel
    {
        let existing = try await DatabaseMappingModel.query(on: db).filter(\.$sourceEnv == source).filter(\.$targetEnv == target)
            .filter(\.$sourceDatabaseUUID == sourceDB.uuid).first()
        let m = existing ?? DatabaseMappingModel()
        if existing == nil { m.id = newID }
        m.sourceEnv = source
        m.targetEnv = target
        m.sourceDatabaseUUID = sourceDB.uuid
        m.sourceDatabaseName = sourceDB.name
        m.targetDatabaseUUID = targetDB.uuid
        m.targetDatabaseName = targetDB.name
        m.updatedAt = now
        try await m.save(on: db)
        return m
    }

    static func delete(_ id: UUID, on db: Database) async throws {
        guard let m = try await DatabaseMappingModel.find(id, on: db) else { throw AppError.notFound("Mapping \(id)") }
        try await m.delete(on: db)
    }

    /// Every source database with its stored mapping (if it still exists on the target) and
    /// the target connections ranked for it.
    static func suggestions(source: String, target: String, sourceClient: SupersetClient, targetClient: SupersetClient, on db: Database) async throws
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
