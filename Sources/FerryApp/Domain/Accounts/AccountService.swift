import Fluent
import Foundation
import SQLKit

/// Users, their roles and passwords, and sign-in with lockout. Domain code: it gets the database
/// and its dependencies as arguments and never sees a request.
enum AccountService {
    /// Failed sign-ins allowed before the account locks.
    static let lockThreshold = 5
    /// The first lock lasts this long, and each failure after a lock has run out doubles it, up to
    /// `maxLock`. Failures while the account is locked are refused without counting, so they
    /// don't extend the lock.
    static let baseLock: TimeInterval = 30
    static let maxLock: TimeInterval = 3600

    // MARK: Reading

    /// The user's role names and all their roles' grants.
    static func access(userID: UUID, on db: any Database) async throws -> (roles: [String], grants: [Grant]) {
        // One round trip: every request whose principal isn't cached comes here.
        guard let sql = db as? any SQLDatabase else { fatalError("Ferry's store is always SQL") }
        struct Row: Decodable { var name: String; var permission: String?; var environments: String?; var stages: String? }
        let rows = try await sql.select()
            .column(SQLColumn("name", table: "r")).column(SQLColumn("permission", table: "g"))
            .column(SQLAlias(SQLColumn("environment_ids", table: "g"), as: SQLIdentifier("environments"))).column(SQLColumn("stages", table: "g"))
            .from(SQLAlias(SQLIdentifier("user_roles"), as: SQLIdentifier("ur")))
            .join(SQLAlias(SQLIdentifier("roles"), as: SQLIdentifier("r")), method: SQLJoinMethod.inner,
                  on: SQLColumn("id", table: "r"), .equal, SQLColumn("role_id", table: "ur"))
            .join(SQLAlias(SQLIdentifier("role_grants"), as: SQLIdentifier("g")), method: SQLJoinMethod.left,
                  on: SQLColumn("role_id", table: "g"), .equal, SQLColumn("id", table: "r"))
            .where(SQLColumn("user_id", table: "ur"), .equal, SQLBind(userID))
            .all(decoding: Row.self)
        let grants = rows.compactMap { row in
            row.permission.flatMap { grant(permission: $0, environments: row.environments ?? "[]", stages: row.stages ?? "[]") }
        }
        return (Set(rows.map(\.name)).sorted(), grants)
    }

    static func grant(_ row: RoleGrantModel) -> Grant? {
        grant(permission: row.permission, environments: row.environments, stages: row.stages)
    }

    /// A stored grant (its environment id and stage lists as JSON); nil for a permission this
    /// version doesn't know, for lists that don't read back, and for a global permission stored with a limit (written before such
    /// grants were refused): it grants nothing rather than everything.
    static func grant(permission: String, environments: String, stages: String) -> Grant? {
        guard let p = Permission(rawValue: permission),
              let envTexts = try? JSONDecoder().decode([String].self, from: Data(environments.utf8)),
              let stageList = try? JSONDecoder().decode([String].self, from: Data(stages.utf8)) else { return nil }
        // Fails closed: a limit that doesn't read back grants nothing, never everything.
        let ids = envTexts.compactMap { UUID(uuidString: $0) }
        guard ids.count == envTexts.count else { return nil }
        let g = Grant(p, environments: ids, stages: stageList)
        if p.isGlobal && !g.isUnlimited { return nil }
        return g
    }

    static func decodeList(_ json: String) -> [String] {
        if json == "[]" { return [] }
        return (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
    }

    static func encodeList(_ list: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(list)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func dto(_ u: UserModel, roles: [String], now: Date) -> UserDTO {
        UserDTO(id: u.id!, username: u.username, displayName: u.displayName, email: u.email, sso: u.ssoSubject != nil, roles: roles,
                disabled: u.disabled, locked: (u.lockedUntil ?? .distantPast) > now, language: u.language, supersetUsername: u.supersetUsername,
                lastLoginAt: u.lastLoginAt, createdAt: u.createdAt)
    }

    static func listUsers(now: Date, on db: any Database) async throws -> [UserDTO] {
        let users = try await UserModel.query(on: db).sort(\.$username).all()
        let roles = try await RoleModel.query(on: db).all()
        let names = Dictionary(uniqueKeysWithValues: roles.map { ($0.id!, $0.name) })
        let links = try await UserRoleModel.query(on: db).all()
        let byUser = Dictionary(grouping: links, by: \.userID)
        return users.map { u in dto(u, roles: (byUser[u.id!] ?? []).compactMap { names[$0.roleID] }.sorted(), now: now) }
    }

    static func findUser(_ id: UUID, on db: any Database) async throws -> UserModel {
        guard let u = try await UserModel.find(id, on: db) else { throw AppError.notFound(.user, "\(id)") }
        return u
    }

    static func userDTO(_ id: UUID, now: Date, on db: any Database) async throws -> UserDTO {
        let u = try await findUser(id, on: db)
        return dto(u, roles: try await access(userID: id, on: db).roles, now: now)
    }

    static func count(on db: any Database) async throws -> Int {
        try await UserModel.query(on: db).count()
    }

    // MARK: Changing

    static func validateUsername(_ name: String?) -> FieldError? {
        guard let n = name?.trimmingCharacters(in: .whitespaces), !n.isEmpty else {
            return FieldError(field: "username", code: "required", key: "required")
        }
        guard n.count <= 120, n.allSatisfy({ $0.isLetter || $0.isNumber || "._-@\\".contains($0) }) else {
            return FieldError(field: "username", code: "invalid", key: "username_chars")
        }
        return nil
    }

    static func validatePassword(_ p: String?, field: String = "password") -> FieldError? {
        guard let p, p.count >= PasswordHasher.minimumLength else {
            return FieldError(field: field, code: "too_short", key: "password_min", ["min": String(PasswordHasher.minimumLength)])
        }
        guard p.count <= 200 else { return FieldError(field: field, code: "too_long", key: "must_be_at_most_chars", ["max": "200"]) }
        return nil
    }

    /// nil for no language (follow the browser) or a known one.
    static func validateLanguage(_ lang: String?) -> FieldError? {
        guard let lang, !lang.isEmpty, !Localizer.languages.contains(lang) else { return nil }
        return FieldError(field: "language", code: "invalid", key: "must_be_one_of", ["values": Localizer.languages.joined(separator: ", ")])
    }

    /// Creates a local user (with a password) or an SSO user (`ssoSubject`, no password).
    /// Throws 422 for bad fields, 409 when the username is taken.
    static func createUser(
        _ input: UserInput, ssoSubject: String? = nil, hasher: PasswordHasher, now: Date, newID: @escaping @Sendable () -> UUID, on db: any Database
    ) async throws -> UserDTO {
        var errors: [FieldError] = []
        if let e = validateUsername(input.username) { errors.append(e) }
        if ssoSubject == nil, let e = validatePassword(input.password) { errors.append(e) }
        if let e = validateLanguage(input.language) { errors.append(e) }
        let roleIDs = try await roleIDs(input.roles ?? [], errors: &errors, on: db)
        if !errors.isEmpty { throw AppError.validation(errors) }
        let username = input.username!.trimmingCharacters(in: .whitespaces)
        if try await UserModel.query(on: db).filter(\.$username == username).first() != nil {
            throw AppError(.conflict, code: "conflict", key: "user_taken", ["name": username])
        }
        let hash: String? = ssoSubject == nil ? try await hasher.hash(input.password!) : nil
        let u = UserModel()
        u.id = newID()
        u.username = username
        u.displayName = input.displayName?.isEmpty == false ? input.displayName! : username
        u.email = input.email
        u.passwordHash = hash
        u.ssoSubject = ssoSubject
        u.language = input.language?.isEmpty == false ? input.language : nil
        u.supersetUsername = input.supersetUsername?.isEmpty == false ? input.supersetUsername : nil
        u.disabled = input.disabled ?? false
        u.failedLogins = 0
        u.createdAt = now
        let id = u.id!
        try await db.writeTransaction { tx in
            try await u.create(on: tx)
            try await setRoleIDs(roleIDs, userID: id, newID: newID, on: tx)
        }
        return dto(u, roles: (input.roles ?? []).sorted(), now: now)
    }

    private static func roleIDs(_ names: [String], errors: inout [FieldError], on db: any Database) async throws -> [UUID] {
        guard !names.isEmpty else { return [] }
        let roles = try await RoleModel.query(on: db).filter(\.$name ~~ names).all()
        let unknown = Set(names).subtracting(roles.map(\.name))
        if !unknown.isEmpty {
            errors.append(FieldError(field: "roles", code: "unknown", key: "no_such_role", ["roles": unknown.sorted().joined(separator: ", ")]))
        }
        return roles.map { $0.id! }
    }

    /// Replaces the user's roles with the roles named `names` (422 for unknown names).
    static func setRoles(_ names: [String], userID: UUID, newID: @escaping @Sendable () -> UUID, on db: any Database) async throws {
        var errors: [FieldError] = []
        let ids = try await roleIDs(names, errors: &errors, on: db)
        if !errors.isEmpty { throw AppError.validation(errors) }
        try await setRoleIDs(ids, userID: userID, newID: newID, on: db)
    }

    private static func setRoleIDs(_ ids: [UUID], userID: UUID, newID: @escaping @Sendable () -> UUID, on db: any Database) async throws {
        try await UserRoleModel.query(on: db).filter(\.$userID == userID).delete()
        for id in Set(ids) {
            let link = UserRoleModel()
            link.id = newID()
            link.userID = userID
            link.roleID = id
            try await link.create(on: db)
        }
    }

    /// Changes a user as an administrator: names, roles, disabled, profile fields, and a new
    /// password (which also ends the user's sessions). Refuses to leave Ferry with no
    /// administrator who can still sign in.
    static func updateUser(
        _ id: UUID, _ input: UserInput, hasher: PasswordHasher, now: Date, newID: @escaping @Sendable () -> UUID, on db: any Database
    ) async throws -> UserDTO {
        let u = try await findUser(id, on: db)
        var errors: [FieldError] = []
        if let p = input.password, u.ssoSubject != nil, !p.isEmpty {
            errors.append(FieldError(field: "password", code: "sso_user", key: "sso_no_password"))
        } else if let p = input.password, !p.isEmpty, let e = validatePassword(p) { errors.append(e) }
        if let e = validateLanguage(input.language) { errors.append(e) }
        var roleIDs: [UUID]?
        if let names = input.roles { roleIDs = try await self.roleIDs(names, errors: &errors, on: db) }
        if !errors.isEmpty { throw AppError.validation(errors) }
        var hash: String?
        if let p = input.password, !p.isEmpty { hash = try await hasher.hash(p) }
        if let v = input.displayName, !v.isEmpty { u.displayName = v }
        if let v = input.email { u.email = v.isEmpty ? nil : v }
        if let v = input.disabled { u.disabled = v }
        if let v = input.language { u.language = v.isEmpty ? nil : v }
        if let v = input.supersetUsername { u.supersetUsername = v.isEmpty ? nil : v }
        if let hash {
            u.passwordHash = hash
            u.failedLogins = 0
            u.lockedUntil = nil
        }
        let newRoles = roleIDs, newHash = hash
        try await db.writeTransaction { tx in
            try await u.save(on: tx)
            if let newRoles { try await setRoleIDs(newRoles, userID: id, newID: newID, on: tx) }
            if newHash != nil || u.disabled { try await SessionModel.query(on: tx).filter(\.$userID == id).delete() }
            try await ensureAnAdministrator(on: tx)
        }
        return try await userDTO(id, now: now, on: db)
    }

    static func deleteUser(_ id: UUID, on db: any Database) async throws {
        _ = try await findUser(id, on: db)
        try await db.writeTransaction { tx in
            try await UserModel.query(on: tx).filter(\.$id == id).delete()
            try await ensureAnAdministrator(on: tx)
        }
    }

    /// Throws 409 (rolling the transaction back) when no enabled user keeps an unlimited
    /// `users:admin` grant: Ferry would have no one left to manage it.
    static func ensureAnAdministrator(on db: any Database) async throws {
        guard try await UserModel.query(on: db).count() > 0 else { return }
        let adminRoles = try await RoleGrantModel.query(on: db).filter(\.$permission == Permission.usersAdmin.rawValue).all()
            .filter { decodeList($0.environments).isEmpty && decodeList($0.stages).isEmpty }.map(\.roleID)
        let userIDs = adminRoles.isEmpty ? [] : try await UserRoleModel.query(on: db).filter(\.$roleID ~~ adminRoles).all().map(\.userID)
        let enabled = userIDs.isEmpty ? 0 : try await UserModel.query(on: db).filter(\.$id ~~ userIDs).filter(\.$disabled == false).count()
        if enabled == 0 {
            throw AppError(.conflict, code: "last_admin",
                           key: "last_admin")
        }
    }

    /// The user's own profile: display name, language, Superset username.
    static func updateProfile(_ id: UUID, displayName: String?, language: String?, supersetUsername: String?, now: Date, on db: any Database) async throws -> UserDTO {
        let u = try await findUser(id, on: db)
        if let e = validateLanguage(language) { throw AppError.validation([e]) }
        if let v = displayName, !v.isEmpty { u.displayName = v }
        if let v = language { u.language = v.isEmpty ? nil : v }
        if let v = supersetUsername { u.supersetUsername = v.isEmpty ? nil : v }
        try await u.save(on: db)
        return try await userDTO(id, now: now, on: db)
    }

    /// Changes the user's own password after checking the current one, and ends every other
    /// session of the user (`keepSession` survives).
    static func changePassword(
        _ id: UUID, current: String, new: String, keepSession: UUID?, hasher: PasswordHasher, on db: any Database
    ) async throws {
        let u = try await findUser(id, on: db)
        guard let hash = u.passwordHash else {
            throw AppError(.conflict, code: "sso_user", key: "sso_password")
        }
        guard try await hasher.verify(current, hash) else {
            throw AppError.validation([FieldError(field: "current", code: "wrong", key: "wrong_current_password")])
        }
        if let e = validatePassword(new, field: "new") { throw AppError.validation([e]) }
        u.passwordHash = try await hasher.hash(new)
        try await db.writeTransaction { tx in
            try await u.save(on: tx)
            let others = SessionModel.query(on: tx).filter(\.$userID == id)
            if let keepSession { others.filter(\.$id != keepSession) }
            try await others.delete()
        }
    }

    // MARK: Signing in

    /// Checks a local username and password. Every failure is the same 401, whether the user is
    /// unknown, disabled, locked, an SSO user or the password is wrong, so the answer doesn't
    /// tell whether the account exists.
    ///
    /// Side effects: counts the failure, and locks the account after `lockThreshold` failures
    /// for `baseLock` seconds, doubling with each failure after a lock has run out, up to
    /// `maxLock`; a success clears both. An attempt while locked is refused without counting
    /// (it doesn't extend the lock). Every path runs one bcrypt check, so all take as long;
    /// when the bcrypt threads are full every path throws `PasswordHasher.busy` alike.
    static func signIn(username: String, password: String, hasher: PasswordHasher, now: Date, on db: any Database) async throws -> UserModel {
        let refused = AppError(.unauthorized, code: "sign_in_failed", key: "sign_in_failed")
        guard let u = try await UserModel.query(on: db).filter(\.$username == username).first() else {
            _ = try await hasher.verify(password, hasher.decoy)
            throw refused
        }
        if (u.lockedUntil ?? .distantPast) > now || u.disabled || u.passwordHash == nil {
            _ = try await hasher.verify(password, hasher.decoy)
            throw refused
        }
        guard try await hasher.verify(password, u.passwordHash!) else {
            try await countFailure(u.id!, now: now, on: db)
            throw refused
        }
        u.failedLogins = 0
        u.lockedUntil = nil
        u.lastLoginAt = now
        try await u.save(on: db)
        return u
    }

    /// The id of the user named `username`, if one exists (to tell, in the audit log, failures
    /// against an account from guesses at names).
    static func userID(named username: String, on db: any Database) async throws -> UUID? {
        try await UserModel.query(on: db).filter(\.$username == username).first()?.id
    }

    /// Adds one failure in the database itself (concurrent attempts can't lose a count) and
    /// sets the lock from the new count.
    private static func countFailure(_ id: UUID, now: Date, on db: any Database) async throws {
        guard let sql = db as? any SQLDatabase else { return }
        try await sql.update("users").set(SQLIdentifier("failed_logins"), to: SQLRaw("failed_logins + 1"))
            .where("id", .equal, SQLBind(id)).run()
        guard let u = try await UserModel.find(id, on: db) else { return }
        if u.failedLogins >= lockThreshold {
            let seconds = min(maxLock, baseLock * pow(2, Double(min(u.failedLogins - lockThreshold, 20))))
            u.lockedUntil = now.addingTimeInterval(seconds)
            try await u.save(on: db)
        }
    }
}
