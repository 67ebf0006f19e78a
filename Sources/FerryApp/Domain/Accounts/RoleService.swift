import Fluent
import Foundation

/// Roles and their grants. The built-in roles can be edited but not deleted.
enum RoleService {
    /// Every role with its grants (environments by current name), by name. `environments`, when
    /// the caller has read them already, saves reading them again.
    static func list(environments: EnvironmentDirectory? = nil, on db: any Database) async throws -> [RoleDTO] {
        // Two plain statements, the columns needed only (a Fluent read reflected each of the
        // rows, most of the roles page's time).
        struct RoleRow: Decodable { var id: UUID, name: String, description: String, builtin: Bool }
        struct Row: Decodable {
            var roleID: UUID, permission: String, environments: String, stages: String
            enum CodingKeys: String, CodingKey { case roleID = "role_id", permission, environments = "environment_ids", stages }
        }
        let sql = TaskStore.sql(db)
        let roles = try await sql.raw("SELECT id, name, description, builtin FROM \(ident: RoleModel.schema) ORDER BY name").all(decoding: RoleRow.self)
        let rows = try await sql.raw("SELECT role_id, permission, environment_ids, stages FROM \(ident: RoleGrantModel.schema)").all(decoding: Row.self)
        let grants = Dictionary(grouping: rows, by: \.roleID).mapValues { rows in
            rows.compactMap { AccountService.grant(permission: $0.permission, environments: $0.environments, stages: $0.stages) }
        }
        let directory: EnvironmentDirectory
        if let environments { directory = environments } else { directory = try await EnvironmentDirectory.load(on: db) }
        let names = directory.byID.mapValues(\.name)
        return roles.map { r in dto(id: r.id, name: r.name, description: r.description, builtin: r.builtin, grants: grants[r.id] ?? [], names: names) }
    }

    /// Every role's name, sorted (the users' pages offer them).
    static func names(on db: any Database) async throws -> [String] {
        struct Row: Decodable { var name: String }
        return try await TaskStore.sql(db).raw("SELECT name FROM \(ident: RoleModel.schema) ORDER BY name").all(decoding: Row.self).map(\.name)
    }

    /// A role as the API shows it: grants in their text form, environments by current name.
    static func dto(_ r: RoleModel, grants: [RoleGrantModel], names: [UUID: String]) -> RoleDTO {
        dto(r, grants: grants.compactMap(AccountService.grant), names: names)
    }

    static func dto(_ r: RoleModel, grants: [Grant], names: [UUID: String]) -> RoleDTO {
        dto(id: r.id!, name: r.name, description: r.description, builtin: r.builtin, grants: grants, names: names)
    }

    static func dto(id: UUID, name: String, description: String, builtin: Bool, grants: [Grant], names: [UUID: String]) -> RoleDTO {
        RoleDTO(id: id, name: name, description: description, builtin: builtin, grants: grants.map { $0.text(names: names) }.sorted())
    }

    static func find(_ id: UUID, on db: any Database) async throws -> RoleDTO {
        guard let r = try await RoleModel.find(id, on: db) else { throw AppError.notFound(.role, "\(id)") }
        let names = try await EnvironmentDirectory.load(on: db).byID.mapValues(\.name)
        return dto(r, grants: try await RoleGrantModel.query(on: db).filter(\.$roleID == id).all(), names: names)
    }

    /// Parses grant texts, naming environments by their current names; every bad one is named.
    static func parseGrants(_ texts: [String], environments: EnvironmentDirectory) throws -> [Grant] {
        var errors: [FieldError] = []
        var grants: [Grant] = []
        let ids = environments.byName.mapValues(\.id)
        for t in texts where !t.trimmingCharacters(in: .whitespaces).isEmpty {
            switch Grant.parse(t, ids: ids) {
            case .success(let g): grants.append(g)
            case .failure(.malformed):
                errors.append(FieldError(field: "grants", code: "invalid", key: "grant_malformed", ["grant": t]))
            case .failure(.unknownEnvironment(let name)):
                errors.append(FieldError(field: "grants", code: "unknown_environment", key: "grant_unknown_environment", ["grant": t, "name": name]))
            case .failure(.globalLimited(let p)):
                errors.append(FieldError(field: "grants", code: "global_permission", key: "grant_global", ["grant": t, "permission": p.rawValue]))
            }
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        let names = environments.byID.mapValues(\.name)
        return Array(Set(grants)).sorted { $0.text(names: names) < $1.text(names: names) }
    }

    /// Creates (`id` nil) or changes a role. 422 for bad input, 409 for a taken name or when the
    /// change would leave no administrator.
    static func save(_ input: RoleInput, id: UUID?, newID: @escaping @Sendable () -> UUID, on db: any Database) async throws -> RoleDTO {
        let existing: RoleModel?
        if let id {
            guard let r = try await RoleModel.find(id, on: db) else { throw AppError.notFound(.role, "\(id)") }
            existing = r
        } else {
            existing = nil
        }
        let name = (input.name ?? existing?.name ?? "").trimmingCharacters(in: .whitespaces)
        var errors: [FieldError] = []
        if name.isEmpty || name.count > 60 { errors.append(FieldError(field: "name", code: "required", key: "role_name")) }
        if (input.description ?? "").count > 500 { errors.append(FieldError(field: "description", code: "too_long", key: "at_most_chars", ["max": "500"])) }
        if existing?.builtin == true, name != existing?.name {
            errors.append(FieldError(field: "name", code: "builtin", key: "builtin_role_name"))
        }
        let grants: [Grant]?
        let directory = try await EnvironmentDirectory.load(on: db)
        do { grants = try input.grants.map { try parseGrants($0, environments: directory) } } catch let e as AppError { errors += e.fields; grants = nil }
        if !errors.isEmpty { throw AppError.validation(errors) }
        if let other = try await RoleModel.query(on: db).filter(\.$name == name).first(), other.id != id {
            throw AppError(.conflict, code: "conflict", key: "role_taken", ["name": name])
        }
        let role = existing ?? RoleModel()
        if role.id == nil {
            role.id = newID()
            role.builtin = false
        }
        role.name = name
        role.description = input.description ?? existing?.description ?? ""
        let roleID = role.id!
        try await db.writeTransaction { tx in
            try await role.save(on: tx)
            if let grants {
                try await RoleGrantModel.query(on: tx).filter(\.$roleID == roleID).delete()
                for g in grants {
                    let row = RoleGrantModel()
                    row.id = newID()
                    row.roleID = roleID
                    row.permission = g.permission.rawValue
                    row.environments = AccountService.encodeList(g.environments.map(\.key))
                    row.stages = AccountService.encodeList(g.stages)
                    try await row.create(on: tx)
                }
            }
            try await AccountService.ensureAnAdministrator(on: tx)
        }
        return try await find(roleID, on: db)
    }

    static func delete(_ id: UUID, on db: any Database) async throws {
        guard let r = try await RoleModel.find(id, on: db) else { throw AppError.notFound(.role, "\(id)") }
        if r.builtin { throw AppError(.conflict, code: "builtin", key: "builtin_role", ["name": r.name]) }
        try await db.writeTransaction { tx in
            try await RoleModel.query(on: tx).filter(\.$id == id).delete()
            try await AccountService.ensureAnAdministrator(on: tx)
        }
    }
}
