import Foundation
import Testing
import SupersetKit
import Vapor

@testable import FerryApp

/// A refused field's message is written in English from the catalogue's `field.*` templates
/// (the API's words) and shown on a page in the reader's language.
@Suite struct FieldTextTests {
    @Test func aFieldMessageReadsBackInRussianAndOthersStayAsTheyAre() {
        let ru = Localizer(language: "ru"), en = Localizer(language: "en")
        let long = FieldError(field: "name", code: "too_long", key: "at_most_chars", ["max": "64"])
        #expect(long.message == "at most 64 characters")
        #expect(ru.fieldText(long.message) == "не больше 64 символов")
        #expect(en.fieldText(long.message) == long.message)
        let grant = FieldError(field: "grants", code: "unknown_environment", key: "grant_unknown_environment", ["grant": "promote:apply@name:qa", "name": "qa"])
        #expect(ru.fieldText(grant.message).contains("«promote:apply@name:qa»") && ru.fieldText(grant.message).contains("«qa»"))
        // The more specific template wins: a token's lifetime is not read as a bare range.
        let days = FieldError(field: "expiresInDays", code: "invalid", key: "token_days", ["max": "365", "default": "90"])
        #expect(days.message == "must be between 1 and 365 days, or absent for 90 days")
        #expect(ru.fieldText(days.message) == "от 1 до 365 дней, или не указывайте — будет 90 дней")
        // A message the catalogue didn't write (a cron parser's, Superset's) is shown as it is.
        #expect(ru.fieldText("minute 61 is out of range") == "minute 61 is out of range")
        // The detail above a form: each field's message in the reader's language.
        let refusal = AppError.validation([long, FieldError(field: "stage", code: "invalid", key: "stage")])
        #expect(refusal.detail == "name: at most 64 characters; stage: must be one of dev, stage, prod, other")
        #expect(ru.problemText(refusal) == "name: не больше 64 символов; stage: должно быть одним из: dev, stage, prod, other")
    }

    /// SupersetKit's words for a bad URL (it can't read the catalogue, which mirrors them), a
    /// cron expression's and a task params schema's are read back too.
    @Test func urlCronAndParamsMessagesReadBackInRussian() throws {
        let ru = Localizer(language: "ru")
        for text in ["", "not a url at all", "ftp://host", "http://", "https://a:b@host", "http://host:70000"] {
            do {
                _ = try SupersetURL.normalize(text)
                Issue.record("\(text) was taken")
            } catch SupersetError.invalidURL(let message) {
                #expect(ru.fieldText(message) != message, "\(message)")
            }
        }
        for cron in ["* * *", "61 * * * *", "* * * FOO *", "5-1 * * * *", "*/0 * * * *", "1//2 * * * *", "1,,2 * * * *", "x * * * *"] {
            do {
                _ = try CronExpression(cron)
                Issue.record("\(cron) was taken")
            } catch let e as CronExpression.ParseError {
                #expect(ru.fieldText(e.message) != e.message, "\(e.message)")
            }
        }
        let schema: BundleValue = .map(["type": .string("object"), "additionalProperties": .bool(false), "required": .list([.string("seconds")]),
                                        "properties": .map(["seconds": .map(["type": .string("integer"), "maximum": .int(60)]),
                                                            "name": .map(["type": .string("string"), "maxLength": .int(3)])])])
        var errors: [FieldError] = []
        JSONSchema.check(.map(["name": .string("toolong"), "extra": .int(1)]), against: schema, path: "", into: &errors)
        JSONSchema.check(.map(["seconds": .int(90)]), against: schema, path: "", into: &errors)
        JSONSchema.check(.map(["seconds": .string("x")]), against: schema, path: "", into: &errors)
        #expect(errors.count == 5, "\(errors)")
        for e in errors { #expect(ru.fieldText(e.message) != e.message, "\(e.message)") }
    }

    /// The git remote's address and an LLM provider's fields are refused from the catalogue too:
    /// every refusal reads back in Russian, the English kept for the API.
    @Test func gitRemoteAndLLMProviderRefusalsReadBackInRussian() {
        let ru = Localizer(language: "ru")
        let remotes: [(String, GitRemoteAuth)] = [("file:///etc", .none), ("-oProxyCommand=touch /tmp/x", .ssh),
                                                  ("https://user:pw@git.example.com/x.git", .token), ("https://git.example.com/x.git", .ssh),
                                                  ("git@host:team/x.git", .token), ("http://git.example.com/x.git", .token),
                                                  ("http://", .none), (String(repeating: "a", count: 2001), .none)]
        var seen = Set<String>()
        for (url, auth) in remotes {
            let message = GitRemoteStore.problem(url: url, auth: auth)?.message ?? ""
            #expect(!message.isEmpty && ru.fieldText(message) != message, "\(url): \(message)")
            seen.insert(message)
        }
        #expect(seen.count == remotes.count, "each address is refused for its own reason")
        #expect(GitRemoteStore.problem(url: "git@host:team/x.git", auth: .token)?.message == "is an SSH address; tokens need an https:// address")
        do {
            _ = try LLMProviderService.validate(LLMProviderInput(name: "", baseURL: "ftp://x", model: "a b", apiKey: "k e y"), existing: nil)
            Issue.record("a bad provider was taken")
        } catch let e as AppError {
            #expect(Set(e.fields.map(\.field)) == ["name", "baseURL", "model", "apiKey"])
            for f in e.fields { #expect(ru.fieldText(f.message) != f.message, "\(f.field): \(f.message)") }
        } catch { Issue.record("\(error)") }
    }

    /// A task refused before it starts (an unknown plugin, environment or param) keeps the
    /// catalogue entries of its fields, renamed to `params.…` as the API names them.
    @Test func aRefusedTaskKeepsItsFieldsEntries() async throws {
        try await withFerry(.sqlite) { t in
            let ru = Localizer(language: "ru")
            for (plugin, given) in [("no.such.plugin", BundleValue.map([:])), ("environment.health_check", params(["environment": .string("qa")])),
                                    ("diagnostics.sleep", params(["seconds": .string("x")]))] {
                do {
                    _ = try await t.app.taskEngine.prepare(pluginID: plugin, params: given, on: t.db)
                    Issue.record("\(plugin) was taken")
                } catch let e as AppError {
                    let field = try #require(e.fields.first)
                    #expect(field.text != nil && ru.fieldText(field) != field.message, "\(plugin): \(field)")
                    #expect(field.field == (plugin == "no.such.plugin" ? "plugin" : plugin == "diagnostics.sleep" ? "params.seconds" : "params.environment"))
                }
            }
        }
    }

    /// A task that failed on a refusal stored the refusal's detail as its cause; a page reads it
    /// back in Russian like any other cause (each field's message, or the problem's text).
    @Test func aTaskFailedOnARefusalReadsItsCauseBackInRussian() {
        let ru = Localizer(language: "ru"), en = Localizer(language: "en")
        let fields = AppError.validation([FieldError(field: "name", code: "too_long", key: "at_most_chars", ["max": "64"]),
                                          FieldError(field: "stage", code: "invalid", key: "stage")])
        let (cause, next) = TaskEngine.describe(fields)
        #expect(cause == "name: at most 64 characters; stage: must be one of dev, stage, prod, other")
        #expect(ru.failureText(cause) == "name: не больше 64 символов; stage: должно быть одним из: dev, stage, prod, other")
        #expect(ru.failureText(next) != next, "the next action is the catalogue's too")
        let gone = AppError(.conflict, code: "plan_not_ready", key: "plan_gone", ["id": "p-1"])
        let (goneCause, _) = TaskEngine.describe(gone)
        #expect(goneCause == gone.detail && ru.failureText(goneCause) != goneCause && ru.failureText(goneCause).contains("p-1"), "\(ru.failureText(goneCause))")
        #expect(en.failureText(goneCause) == goneCause)
        // A message holding "; " itself stays one message.
        let target = "target: no environment 'qa'; GET /api/environments lists them; name: at most 64 characters"
        #expect(ru.failureText(target) == "target: нет окружения «qa»; список — GET /api/environments; name: не больше 64 символов")
        // A list whose every message the catalogue didn't write stays as it is, whole.
        let mixed = "name: at most 64 characters; cron: minute 61 is out of range"
        #expect(ru.failureText(mixed) == mixed)
    }

    /// The environment form refused in Russian marks its fields in Russian; the API answers the
    /// same refusal in English.
    @Test func aRefusedFormSpeaksTheReadersLanguage() async throws {
        try await withFerry(.sqlite) { t in
            var ru = formHeaders()
            ru.replaceOrAdd(name: .cookie, value: "ferry_lang=ru")
            let form = formBody([("name", String(repeating: "x", count: 70)), ("url", "http://127.0.0.1:9"), ("username", ""), ("password", ""),
                                 ("stage", "dev"), ("authProvider", "db"), ("parallelRequests", "40")])
            let page = try await t.request(.POST, "/environments", headers: ru, body: form)
            #expect(page.status == .unprocessableEntity)
            let html = page.body.string
            for text in ["не больше 64 символов", "нужно имя пользователя Superset", "нужен пароль Superset", "от 1 до 16"] {
                #expect(html.contains(text), "\(text)")
            }
            #expect(!html.contains("at most 64 characters"))
            let api = try await t.request(.POST, "/api/environments", json: ["name": String(repeating: "x", count: 70), "url": "http://127.0.0.1:9", "username": "a", "password": "b"])
            #expect(api.status == .unprocessableEntity)
            #expect(api.body.string.contains("at most 64 characters"))
        }
    }
}

/// An upload's refusal (a hostile or broken archive) reads back in Russian, SupersetKit's words
/// for the archive inside it too.
@Suite struct ProblemTextTests {
    @Test func everyArchiveRefusalReadsBackInRussian() {
        let ru = Localizer(language: "ru")
        let cases: [BundleError] = [
            .notAZip, .tooLarge("12 MB over 10 MB"), .tooManyEntries(5000), .unsafePath("../../etc/passwd"), .link("a/b"),
            .compressionBomb("x/big.yaml"), .noTopFolder, .missingMetadata, .invalidYAML(path: "a/b.yaml", message: "bad indent"),
            .missingField(path: "a/b.yaml", field: "uuid"), .unresolvedReference("2 reference(s)"), .yamlTooLarge(path: "a.yaml", limit: 100_000),
            .yamlTooDeep(path: "a.yaml", limit: 64), .integerOutOfRange(path: "a.yaml", value: "99999999999999999999"),
        ]
        for bundleError in cases {
            let english = bundleError.localizedDescription
            #expect(ru.fieldText(english) == english)  // not a field's
            let refusal = AppError(.unprocessableEntity, code: "invalid_bundle", detail: TaskText.text("problem.upload_unreadable", ["why": english]))
            let shown = ru.problemText(refusal)
            #expect(shown.hasPrefix("Загруженный файл"), "\(shown)")
            #expect(!shown.contains(english), "SupersetKit's words are read back too: \(shown)")
        }
    }

    @Test func anUploadRefusedOnTheEnvironmentPageIsInRussian() async throws {
        try await withFerry(.sqlite) { t in
            let env = try await t.createEnvironment(sample("dev"))
            var ru = HTTPHeaders()
            ru.replaceOrAdd(name: .cookie, value: "ferry_lang=ru")
            ru.replaceOrAdd(name: .accept, value: "text/html")
            ru.contentType = HTTPMediaType(type: "multipart", subType: "form-data", parameters: ["boundary": "XyZ"])
            let body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.zip\"\r\nContent-Type: application/zip\r\n\r\nnot a zip at all\r\n--XyZ--\r\n"
            let res = try await t.request(.POST, SiteURL.backupUploadPage(.value(env.id)).path, headers: ru, body: body)
            #expect(res.status == .unprocessableEntity, "\(res.body.string.prefix(300))")
            #expect(res.body.string.contains("Файл — не ZIP-архив"), "\(res.body.string.prefix(2000))")
        }
    }
}

/// A conflict the store refuses (a name taken) is told on the page in the reader's language.
@Suite struct ConflictTextTests {
    @Test func aTakenUsernameIsToldInRussian() async throws {
        try await withFerry(.sqlite) { t in
            var ru = formHeaders()
            ru.replaceOrAdd(name: .cookie, value: "ferry_lang=ru")
            let form = formBody([("username", "bob"), ("displayName", "Bob"), ("password", "Correct-Horse-9-battery"), ("roles", "viewer")])
            let first = try await t.request(.POST, SiteURL.usersPage.path, headers: ru, body: form)
            #expect(first.status == .seeOther, "\(first.body.string.prefix(500))")
            let again = try await t.request(.POST, SiteURL.usersPage.path, headers: ru, body: form)
            #expect(again.status == .conflict)
            #expect(again.body.string.contains("Пользователь с именем «bob» уже есть"), "\(again.body.string.prefix(3000))")
            let api = try await t.request(.POST, "/api/users", json: UserInput(username: "bob", password: "Correct-Horse-9-battery", roles: ["viewer"]))
            #expect(api.status == .conflict && api.body.string.contains("A user named 'bob' already exists."), "\(api.body.string)")
        }
    }
}

/// An error page (a refusal, a missing page, a failed sign-in) speaks the reader's language; the
/// API's problem details keep the English.
@Suite struct ErrorPageTextTests {
    @Test func aForbiddenAndAMissingPageAreToldInRussian() async throws {
        try await withFerry(.sqlite) { t in
            var ru = bearer(try await t.limitedUser("reader", grants: ["environments:read"]))
            ru.replaceOrAdd(name: .cookie, value: "ferry_lang=ru")
            ru.replaceOrAdd(name: .accept, value: "text/html")
            let forbidden = try await t.request(.GET, SiteURL.usersPage.path, headers: ru)
            #expect(forbidden.status == .forbidden)
            #expect(forbidden.body.string.contains("Нужно право «"), "\(forbidden.body.string.prefix(3000))")
            #expect(!forbidden.body.string.contains("Ask an administrator"))
            let missing = try await t.request(.GET, "/no-such-page", headers: ru)
            #expect(missing.status == .notFound)
            #expect(missing.body.string.contains("Нет такой страницы или маршрута API: /no-such-page"), "\(missing.body.string.prefix(3000))")
            var api = ru
            api.replaceOrAdd(name: .accept, value: "application/json")
            let refused = try await t.request(.GET, "/api/users", headers: api)
            #expect(refused.status == .forbidden && refused.body.string.contains("You need '"), "\(refused.body.string)")
        }
    }

    /// Superset's failure inside a refusal (SupersetKit's words, which the catalogue mirrors) is
    /// read back too; sign-in refusals come from the catalogue.
    @Test func aSupersetFailureAndSignInRefusalsReadBackInRussian() {
        let ru = Localizer(language: "ru")
        let down = AppError.superset(.unreachable("connection refused"), environment: "prod")
        #expect(down.detail == "Environment 'prod': Superset is unreachable: connection refused")
        #expect(ru.problemText(down) == "Окружение «prod»: " + ru.failureText("Superset is unreachable: connection refused"))
        #expect(!ru.problemText(down).contains("unreachable"), "\(ru.problemText(down))")
        for refusal in [AuthErrors.unauthenticated, AuthErrors.tokenRefused, AuthErrors.csrf, AuthErrors.forbidden(.usersAdmin, environment: nil),
                        AuthErrors.forbidden(.promoteApply, environment: "prod"), SSOService.failure(key: "state"),
                        SSOService.failure(key: "token_audience", ["actual": "other-app", "audience": "ferry"])] {
            #expect(ru.problemText(refusal) != refusal.detail, "\(refusal.detail)")
        }
        // A page shows a refusal from the entry it was written from, so a name from the request
        // can't make it look like another ("Environment 'a': b…" is not Superset's failure).
        let named = AppError.notFound(.environmentNamed, "a': b")
        #expect(named.detail == "Environment 'a': b' does not exist. Check the id, or list them first.")
        #expect(ru.problemText(named) == "Окружение «a': b» не существует. Проверьте id или сначала получите список.")
        // The causes inside a refusal are read two levels deep, no further: the work stays bounded.
        let nested = String(repeating: "Environment 'a': ", count: 200) + "Superset is unreachable: x"
        let shown = ru.failureText(nested)
        #expect(shown.hasPrefix("Окружение «a»: Окружение «a»: Окружение «a»: Environment 'a': "), "\(shown.prefix(200))")
        #expect(AuthErrors.forbidden(.promoteApply, environment: "prod").detail
                == "You need 'promote:apply' on environment 'prod'. Ask an administrator for a role that grants it.")
    }
}
