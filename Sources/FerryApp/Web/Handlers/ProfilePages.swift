import Fluent
import Foundation
import Vapor

/// The signed-in user's profile, password and API tokens.
enum ProfilePages {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.profile, use: show)
        routes.post(.profile, use: update)
        routes.post(.profilePassword, use: password)
        routes.post(.profileTokens, use: createToken)
        routes.post(.profileTokenRevoke(.key), use: revokeToken)
    }

    static func render(_ req: Request, newToken: String? = nil, flash: String? = nil, error: AppError? = nil) async throws -> Response {
        let p = try req.requirePrincipal()
        let now = req.application.ferry.now()
        let model = ProfilePage.Model(
            user: try await AccountService.userDTO(p.userID, now: now, on: req.db), tokens: try await SessionService.tokens(userID: p.userID, username: p.username, on: req.db),
            permissions: Permission.allCases.filter(p.can).map(\.rawValue), newToken: newToken, flash: flash, error: error.map(req.localizer.problemText),
            tokenPolicy: req.application.ferryConfiguration.hardening.tokens)
        let response = Layout.response(ProfilePage.View(model: model, localizer: req.localizer), request: req)
        if let error { response.status = error.status }
        // It shows a new token once, and takes passwords: never kept by a browser or a cache.
        response.noStore()
        return response
    }

    @Sendable static func show(req: Request) async throws -> Response {
        let done = try? req.query.get(String.self, at: "done")
        return try await render(req, flash: done.flatMap { ["saved", "password", "revoked"].contains($0) ? req.localizer.t("profile.flash.\($0)") : nil })
    }

    @Sendable static func update(req: Request) async throws -> Response {
        struct Form: Decodable { var displayName: String?; var language: String?; var supersetUsername: String? }
        let f = try req.content.decode(Form.self)
        let p = try req.requirePrincipal()
        do {
            _ = try await AccountService.updateProfile(p.userID, displayName: f.displayName, language: f.language, supersetUsername: f.supersetUsername,
                                                       now: req.application.ferry.now(), on: req.db)
        } catch let e as AppError where e.status == .unprocessableEntity { return try await render(req, error: e) }
        req.application.authenticator.invalidate()
        // The chosen language shows at once (the `lang` query also sets the cookie).
        let lang = f.language.flatMap { Localizer.languages.contains($0) ? $0 : nil }
        return req.redirect(to: SiteURL.profile.path(query: ["done": "saved", "lang": lang]), redirectType: .normal)
    }

    @Sendable static func password(req: Request) async throws -> Response {
        struct Form: Decodable { var current: String?; var new: String? }
        let f = try req.content.decode(Form.self)
        let p = try req.requirePrincipal()
        // Checking the current password is a sign-in attempt: the same limits apply.
        if let refused = req.application.signInLimiter.take(address: req.limitAddress, now: req.application.ferry.now()) {
            throw AppError(.tooManyRequests, code: "rate_limited",
                           detail: req.localizer.t("auth.rate_limited", ["seconds": "\(refused.retryAfter)"]),
                           retryAfter: refused.retryAfter)
        }
        var keep: UUID?
        if case .session(let id, _) = p.credential { keep = id }
        do {
            try await AccountService.changePassword(p.userID, current: f.current ?? "", new: f.new ?? "", keepSession: keep,
                                                    hasher: req.application.passwordHasher, on: req.db)
        } catch let e as AppError where e.status == .unprocessableEntity || e.status == .conflict {
            req.audit.action = "profile.password"
            return try await render(req, error: e)
        }
        req.application.authenticator.invalidate()
        req.audit.action = "profile.password"
        return req.redirect(to: SiteURL.profile.path(query: ["done": "password"]), redirectType: .normal)
    }

    @Sendable static func createToken(req: Request) async throws -> Response {
        struct Form: Decodable { var name: String?; var scopes: String?; var expiresInDays: String? }
        let f = try req.content.decode(Form.self)
        let p = try req.requirePrincipal()
        let scopes = (f.scopes ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        let days = f.expiresInDays.flatMap { $0.isEmpty ? nil : $0 }
        if let days, Int(days) == nil {
            return try await render(req, error: AppError.validation([FieldError(field: "expiresInDays", code: "invalid", key: "whole_days")]))
        }
        let app = req.application
        do {
            let created = try await SessionService.createToken(TokenInput(name: f.name, scopes: scopes, expiresInDays: days.flatMap(Int.init)), owner: p,
                                                               now: app.ferry.now(), newID: app.ferry.uuid(),
                                                               policy: app.ferryConfiguration.hardening.tokens, on: req.db)
            req.audit.action = "token.create"
            req.audit.target = created.info.name
            return try await render(req, newToken: created.token)
        } catch let e as AppError where e.status == .unprocessableEntity {
            return try await render(req, error: e)
        }
    }

    @Sendable static func revokeToken(req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = try await SessionService.revoke(try req.idParameter(), by: p, now: req.application.ferry.now(), on: req.db)
        req.application.authenticator.invalidate()
        req.audit.action = "token.revoke"
        req.audit.target = t.name
        return req.redirect(to: SiteURL.profile.path(query: ["done": "revoked"]), redirectType: .normal)
    }
}
