import Fluent
import Foundation
import SupersetKit
import Vapor

/// Administration pages: users, roles, the audit log and single sign-on settings.
enum AdminPages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.usersPage, use: users)
        routes.post(.usersPage, use: createUser)
        routes.get(.userPage(.key), use: user)
        routes.post(.userPage(.key), use: updateUser)
        routes.get(.rolesPage, use: roles)
        routes.post(.rolesPage, use: saveRole)
        routes.get(.rolePage(.key), use: role)
        routes.post(.rolePage(.key), use: saveRole)
        routes.post(.roleDeletePage(.key), use: deleteRole)
        routes.get(.auditPage, use: audit)
        routes.get(.ssoSettingsPage, use: sso)
        routes.post(.ssoSettingsPage, use: saveSSO)
        routes.get(.ssoTestPage, use: testSSO)
    }

    static func flash(_ req: Request, _ prefix: String) -> String? {
        (try? req.query.get(String.self, at: "done")).flatMap { ["saved", "deleted", "created"].contains($0) ? req.localizer.t("\(prefix).flash.\($0)") : nil }
    }

    // MARK: Users

    struct UserForm: Decodable {
        var username: String?
        var displayName: String?
        var password: String?
        var roles: [String]?
        var disabled: String?
        var supersetUsername: String?
    }

    static func usersModel(_ req: Request, form: UsersPage.Model.Form = .init(), error: AppError? = nil) async throws -> UsersPage.Model {
        UsersPage.Model(users: try await AccountService.listUsers(now: req.application.ferry.now(), on: req.db),
                        roles: try await RoleService.names(on: req.db), form: form, error: error.map(req.localizer.problemText), flash: flash(req, "users"))
    }

    @Sendable static func users(req: Request) async throws -> Response {
        req.page(UsersPage.View(model: try await usersModel(req), localizer: req.localizer))
    }

    @Sendable static func createUser(req: Request) async throws -> Response {
        let f = try req.content.decode(UserForm.self)
        let app = req.application
        do {
            let u = try await AccountService.createUser(UserInput(username: f.username, displayName: f.displayName, password: f.password, roles: f.roles ?? []),
                                                        hasher: app.passwordHasher, now: app.ferry.now(), newID: app.ferry.uuid, on: req.db)
            req.audit.action = "user.create"
            req.audit.target = u.username
            return req.redirect(to: SiteURL.usersPage.path(query: ["done": "created"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            let form = UsersPage.Model.Form(username: f.username ?? "", displayName: f.displayName ?? "", roles: f.roles ?? [])
            return req.page(UsersPage.View(model: try await usersModel(req, form: form, error: e), localizer: req.localizer), status: e.status)
        }
    }

    @Sendable static func user(req: Request) async throws -> Response {
        let u = try await AccountService.userDTO(try req.idParameter(), now: req.application.ferry.now(), on: req.db)
        let model = UserEditPage.Model(user: u, roles: try await RoleService.names(on: req.db), flash: flash(req, "users"))
        return req.page(UserEditPage.View(model: model, localizer: req.localizer))
    }

    @Sendable static func updateUser(req: Request) async throws -> Response {
        let id = try req.idParameter()
        let f = try req.content.decode(UserForm.self)
        let app = req.application
        let input = UserInput(displayName: f.displayName, password: f.password, roles: f.roles ?? [], disabled: f.disabled == "true",
                              supersetUsername: f.supersetUsername)
        req.audit.action = "user.update"
        do {
            let u = try await AccountService.updateUser(id, input, hasher: app.passwordHasher, now: app.ferry.now(), newID: app.ferry.uuid, on: req.db)
            req.audit.target = u.username
            app.authenticator.invalidate()
            return req.redirect(to: SiteURL.userPage(.value(id)).path(query: ["done": "saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            let u = try await AccountService.userDTO(id, now: app.ferry.now(), on: req.db)
            let model = UserEditPage.Model(user: u, roles: try await RoleService.names(on: req.db), error: req.localizer.problemText(e))
            return req.page(UserEditPage.View(model: model, localizer: req.localizer), status: e.status)
        }
    }

    // MARK: Roles

    static func rolesModel(_ req: Request, editing: RoleDTO?, form: RolesPage.Model.Form? = nil, error: AppError? = nil) async throws -> RolesPage.Model {
        let filled = form ?? editing.map { RolesPage.Model.Form(name: $0.name, description: $0.description, grants: $0.grants.joined(separator: "\n")) }
            ?? .init()
        let directory = try await req.environmentDirectory()
        let environments = directory.sortedByName.map { RolesPage.Model.Environment(id: $0.id, name: $0.name, stage: $0.stage) }
        return RolesPage.Model(roles: try await RoleService.list(environments: directory, on: req.db), editing: editing, form: filled,
                               permissions: Permission.allCases.map(\.rawValue), environments: environments, error: error.map(req.localizer.problemText), flash: flash(req, "roles"))
    }

    @Sendable static func roles(req: Request) async throws -> Response {
        req.page(RolesPage.View(model: try await rolesModel(req, editing: nil), localizer: req.localizer))
    }

    @Sendable static func role(req: Request) async throws -> Response {
        let r = try await RoleService.find(try req.idParameter(), on: req.db)
        return req.page(RolesPage.View(model: try await rolesModel(req, editing: r), localizer: req.localizer))
    }

    @Sendable static func saveRole(req: Request) async throws -> Response {
        struct Form: Decodable {
            var name: String?; var description: String?; var grants: String?; var source: String?; var matrix: String?; var original: String?
        }
        let f = try req.content.decode(Form.self)
        let id = req.parameters.get("id").flatMap(UUID.init(uuidString:))
        // The matrix (checkboxes) unless the text form's own button sent it, or no matrix came.
        let fromMatrix = f.source == "matrix" || (f.source == nil && f.matrix == "1")
        let environments = try await EnvironmentModel.query(on: req.db).all()
            .compactMap { e in e.id.map { RolesPage.Model.Environment(id: $0, name: e.name, stage: e.stage) } }
        let chosen = RolesPage.Model.grants(fields: req.formFields(), text: f.grants, original: f.original, fromMatrix: fromMatrix, environments: environments)
        let grants = chosen ?? []
        let app = req.application
        req.audit.action = id == nil ? "role.create" : "role.update"
        do {
            guard chosen != nil else {
                throw AppError(.unprocessableEntity, code: "validation", detail: req.localizer.t("roles.both_changed"))
            }
            if fromMatrix, let bad = RolesPage.Model.invalidStages(req.formFields()).first {
                throw AppError(.unprocessableEntity, code: "validation", detail: req.localizer.t("roles.invalid_stage", ["stage": String(bad.prefix(64))]))
            }
            let r = try await RoleService.save(RoleInput(name: f.name, description: f.description, grants: grants), id: id, newID: app.ferry.uuid, on: req.db)
            req.audit.target = r.name
            app.authenticator.invalidate()
            return req.redirect(to: SiteURL.rolesPage.path(query: ["done": "saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            var editing: RoleDTO?
            if let id { editing = try await RoleService.find(id, on: req.db) }
            let form = RolesPage.Model.Form(name: f.name ?? "", description: f.description ?? "",
                                            grants: chosen == nil || !fromMatrix ? f.grants ?? "" : grants.joined(separator: "\n"))
            return req.page(RolesPage.View(model: try await rolesModel(req, editing: editing, form: form, error: e), localizer: req.localizer), status: e.status)
        }
    }

    @Sendable static func deleteRole(req: Request) async throws -> Response {
        try await RoleService.delete(try req.idParameter(), on: req.db)
        req.application.authenticator.invalidate()
        req.audit.action = "role.delete"
        return req.redirect(to: SiteURL.rolesPage.path(query: ["done": "deleted"]), redirectType: .normal)
    }

    // MARK: Audit

    @Sendable static func audit(req: Request) async throws -> Response {
        let (filter, shown) = try await AuditLog.Filter.parse(req)
        let (items, total) = try await AuditLog.list(filter, on: req.db)
        return req.page(AuditPage.View(model: AuditPage.Model(events: items, total: total, filter: shown, exportQuery: shown), localizer: req.localizer))
    }

    // MARK: SSO

    static func ssoModel(_ req: Request, test: SSOIdentity? = nil, error: AppError? = nil) async throws -> SSOSettingsPage.Model {
        let s = try await SSOService.load(on: req.db)
        return SSOSettingsPage.Model(settings: SSOSettingsDTO(s, redirectURI: AuthPages.redirectURI(req)), error: error.map(req.localizer.problemText),
                                     flash: flash(req, "sso"), test: test)
    }

    @Sendable static func sso(req: Request) async throws -> Response {
        req.page(SSOSettingsPage.View(model: try await ssoModel(req), localizer: req.localizer))
    }

    /// Parses "Group = role1, role2" lines.
    static func parseGroupRoles(_ text: String) throws -> [String: [String]] {
        var map: [String: [String]] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw AppError.validation([FieldError(field: "groupRoles", code: "invalid", key: "group_role_line", ["line": String(line)])])
            }
            map[parts[0], default: []] += parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return map
    }

    @Sendable static func saveSSO(req: Request) async throws -> Response {
        struct Form: Decodable {
            var enabled: String?; var label: String?; var issuer: String?; var clientID: String?; var clientSecret: String?; var scopes: String?
            var usernameClaims: String?; var emailClaim: String?; var nameClaim: String?; var groupsClaims: String?; var groupRoles: String?
            var clockSkew: String?
        }
        let f = try req.content.decode(Form.self)
        func list(_ s: String?) -> [String]? { s.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } }
        req.audit.action = "settings.sso"
        do {
            var input = SSOSettingsInput()
            input.enabled = f.enabled == "true"
            input.label = f.label
            input.issuer = f.issuer
            input.clientID = f.clientID
            // An empty password field keeps the stored secret.
            input.clientSecret = f.clientSecret.flatMap { $0.isEmpty ? nil : $0 }
            input.scopes = f.scopes
            input.usernameClaims = list(f.usernameClaims)
            input.emailClaim = f.emailClaim
            input.nameClaim = f.nameClaim
            input.groupsClaims = list(f.groupsClaims)
            input.groupRoles = try f.groupRoles.map(parseGroupRoles)
            if let t = f.clockSkew, !t.isEmpty {
                guard let n = Int(t) else { throw AppError.validation([FieldError(field: "clockSkew", code: "invalid", key: "whole_seconds")]) }
                input.clockSkew = n
            }
            let app = req.application
            _ = try await SSOService.save(input, box: app.secretBox, now: app.ferry.now(), newID: app.ferry.uuid(),
                                          allowHTTP: app.ferryConfiguration.hardening.ssoAllowHTTP, on: req.db)
            return req.redirect(to: SiteURL.ssoSettingsPage.path(query: ["done": "saved"]), redirectType: .normal)
        } catch let e as AppError where e.status == .unprocessableEntity {
            return req.page(SSOSettingsPage.View(model: try await ssoModel(req, error: e), localizer: req.localizer), status: e.status)
        }
    }

    /// Runs a sign-in at the provider that shows, instead of signing in, what Ferry would do.
    @Sendable static func testSSO(req: Request) async throws -> Response {
        let settings = try await SSOService.load(on: req.db)
        guard settings.enabled else { throw AppError(.conflict, code: "sso_off", key: "sso_off") }
        return try await AuthPages.redirectToProvider(req, settings: settings, next: SiteURL.ssoSettingsPage.path, test: true)
    }
}
