import Fluent
import Foundation
import Vapor

/// `/api/me`, `/api/tokens`, `/api/users`, `/api/roles`, `/api/audit`, `/api/settings/sso`.
enum AccountsAPI {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.api(.me), use: me)
        routes.get(.api(.tokens), use: tokens)
        routes.post(.api(.tokens), use: createToken)
        routes.delete(.api(.token(.key)), use: revokeToken)
        routes.get(.api(.users), use: users)
        routes.post(.api(.users), use: createUser)
        routes.get(.api(.user(.key)), use: user)
        routes.put(.api(.user(.key)), use: updateUser)
        routes.delete(.api(.user(.key)), use: deleteUser)
        routes.get(.api(.roles), use: roles)
        routes.post(.api(.roles), use: createRole)
        routes.get(.api(.role(.key)), use: role)
        routes.put(.api(.role(.key)), use: updateRole)
        routes.delete(.api(.role(.key)), use: deleteRole)
        routes.get(.api(.audit), use: audit)
        routes.get(.api(.ssoSettings), use: ssoSettings)
        routes.put(.api(.ssoSettings), use: saveSSOSettings)
    }

    struct Me: Content {
        var user: UserDTO
        var permissions: [String]
        var via: String
    }
    struct Items<T: Codable & Sendable>: Content { var items: [T] }
    struct AuditPage: Content { var items: [AuditDTO]; var total: Int }

    @Sendable static func me(req: Request) async throws -> Me {
        let p = try req.requirePrincipal()
        let via: String
        if case .token = p.credential { via = "token" } else { via = "session" }
        let names = try await req.environmentDirectory().byID.mapValues(\.name)
        return Me(user: try await AccountService.userDTO(p.userID, now: req.application.ferry.now(), on: req.db),
                  permissions: p.grants.map { $0.text(names: names) }.sorted(), via: via)
    }

    /// The caller's tokens; `?all=true` lists everyone's for holders of `users:admin`.
    @Sendable static func tokens(req: Request) async throws -> Items<TokenDTO> {
        let p = try req.requirePrincipal()
        let all = (try? req.query.get(Bool.self, at: "all")) ?? false
        if all && !p.can(.usersAdmin) { throw AuthErrors.forbidden(.usersAdmin, environment: nil) }
        return Items(items: try await SessionService.tokens(userID: all ? nil : p.userID, on: req.db))
    }

    @Sendable static func createToken(req: Request) async throws -> Response {
        let input = try req.content.decode(TokenInput.self)
        let app = req.application
        let created = try await SessionService.createToken(input, owner: try req.requirePrincipal(), now: app.ferry.now(), newID: app.ferry.uuid(),
                                                           policy: app.ferryConfiguration.hardening.tokens, on: req.db)
        req.audit.action = "token.create"
        req.audit.target = created.info.name
        return try await created.encodeResponse(status: .created, for: req)
    }

    @Sendable static func revokeToken(req: Request) async throws -> TokenDTO {
        let t = try await SessionService.revoke(try req.idParameter(), by: try req.requirePrincipal(), now: req.application.ferry.now(), on: req.db)
        req.application.authenticator.invalidate()
        req.audit.action = "token.revoke"
        req.audit.target = t.name
        return t
    }

    @Sendable static func users(req: Request) async throws -> Items<UserDTO> {
        Items(items: try await AccountService.listUsers(now: req.application.ferry.now(), on: req.db))
    }

    @Sendable static func user(req: Request) async throws -> UserDTO {
        try await AccountService.userDTO(try req.idParameter(), now: req.application.ferry.now(), on: req.db)
    }

    @Sendable static func createUser(req: Request) async throws -> Response {
        let input = try req.content.decode(UserInput.self)
        let app = req.application
        req.audit.action = "user.create"
        req.audit.target = input.username
        let u = try await AccountService.createUser(input, hasher: app.passwordHasher, now: app.ferry.now(), newID: app.ferry.uuid, on: req.db)
        return try await u.encodeResponse(status: .created, for: req)
    }

    @Sendable static func updateUser(req: Request) async throws -> UserDTO {
        let input = try req.content.decode(UserInput.self)
        let app = req.application
        req.audit.action = "user.update"
        let u = try await AccountService.updateUser(try req.idParameter(), input, hasher: app.passwordHasher, now: app.ferry.now(), newID: app.ferry.uuid, on: req.db)
        req.audit.target = u.username
        app.authenticator.invalidate()
        return u
    }

    @Sendable static func deleteUser(req: Request) async throws -> HTTPStatus {
        req.audit.action = "user.delete"
        try await AccountService.deleteUser(try req.idParameter(), on: req.db)
        req.application.authenticator.invalidate()
        return .noContent
    }

    @Sendable static func roles(req: Request) async throws -> Items<RoleDTO> {
        Items(items: try await RoleService.list(on: req.db))
    }

    @Sendable static func role(req: Request) async throws -> RoleDTO {
        try await RoleService.find(try req.idParameter(), on: req.db)
    }

    @Sendable static func createRole(req: Request) async throws -> Response {
        let input = try req.content.decode(RoleInput.self)
        req.audit.action = "role.create"
        req.audit.target = input.name
        let r = try await RoleService.save(input, id: nil, newID: req.application.ferry.uuid, on: req.db)
        return try await r.encodeResponse(status: .created, for: req)
    }

    @Sendable static func updateRole(req: Request) async throws -> RoleDTO {
        let input = try req.content.decode(RoleInput.self)
        req.audit.action = "role.update"
        let r = try await RoleService.save(input, id: try req.idParameter(), newID: req.application.ferry.uuid, on: req.db)
        req.audit.target = r.name
        req.application.authenticator.invalidate()
        return r
    }

    @Sendable static func deleteRole(req: Request) async throws -> HTTPStatus {
        req.audit.action = "role.delete"
        try await RoleService.delete(try req.idParameter(), on: req.db)
        req.application.authenticator.invalidate()
        return .noContent
    }

    /// The audit log as JSON (default) or CSV (`format=csv`, as a download).
    @Sendable static func audit(req: Request) async throws -> Response {
        let (filter, _) = try await AuditLog.Filter.parse(req)
        let format = (try? req.query.get(String.self, at: "format")) ?? "json"
        guard ["json", "csv"].contains(format) else {
            throw AppError.validation([FieldError(field: "format", code: "invalid", key: "json_or_csv")])
        }
        let (items, total) = try await AuditLog.list(filter, on: req.db)
        if format == "csv" {
            let body = ([AuditDTO.csvHeader] + items.map(\.csvLine)).joined(separator: "\r\n") + "\r\n"
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: .contentType, value: "text/csv; charset=utf-8")
            headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"ferry-audit.csv\"")
            return Response(status: .ok, headers: headers, body: .init(string: body))
        }
        return try await AuditPage(items: items, total: total).encodeResponse(for: req)
    }

    @Sendable static func ssoSettings(req: Request) async throws -> SSOSettingsDTO {
        SSOSettingsDTO(try await SSOService.load(on: req.db), redirectURI: AuthPages.redirectURI(req))
    }

    @Sendable static func saveSSOSettings(req: Request) async throws -> SSOSettingsDTO {
        let input = try req.content.decode(SSOSettingsInput.self)
        let app = req.application
        req.audit.action = "settings.sso"
        let s = try await SSOService.save(input, box: app.secretBox, now: app.ferry.now(), newID: app.ferry.uuid(),
                                          allowHTTP: app.ferryConfiguration.hardening.ssoAllowHTTP, on: req.db)
        return SSOSettingsDTO(s, redirectURI: AuthPages.redirectURI(req))
    }
}

extension UserDTO: Content {}
extension RoleDTO: Content {}
extension TokenDTO: Content {}
extension CreatedTokenDTO: Content {}
extension SSOSettingsDTO: Content {}
extension AuditDTO: Content {}
