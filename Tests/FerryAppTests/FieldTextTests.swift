import Foundation
import Testing
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
        // A message the catalogue didn't write (a cron parser's, Superset's) is shown as it is.
        #expect(ru.fieldText("minute 61 is out of range") == "minute 61 is out of range")
        // The detail above a form: each field's message in the reader's language.
        let refusal = AppError.validation([long, FieldError(field: "stage", code: "invalid", key: "stage")])
        #expect(refusal.detail == "name: at most 64 characters; stage: must be one of dev, stage, prod, other")
        #expect(ru.problemText(refusal) == "name: не больше 64 символов; stage: должно быть одним из: dev, stage, prod, other")
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
