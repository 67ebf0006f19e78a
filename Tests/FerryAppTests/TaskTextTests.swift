import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// A task's step, input request and failure are stored in English from the catalogue's
/// `step.*`, `input.*` and `failure.*` templates and shown in the reader's language by reading
/// the template back.
@Suite struct TaskTextTests {
    /// Every template, written with values as plugins write them (numbers, an asset kind, names
    /// with spaces and dashes), reads back as itself with the same values: no template is
    /// mistaken for another (the most specific is tried first).
    @Test func everyTemplateReadsBackAsItself() throws {
        #expect(TaskText.templates.count > 50)
        #expect(TaskText.templates.contains { $0.key.hasPrefix("failure.") } && TaskText.templates.contains { $0.key.hasPrefix("input.") })
        let english = Catalogue.shared.tables["en"] ?? [:]
        let numbers: Set = ["n", "first", "last", "total", "count", "days", "dashboards", "charts", "low", "high"]
        for template in TaskText.templates {
            var values: [String: String] = [:]
            for case .value(let name) in template.parts {
                values[name] = numbers.contains(name) ? String(40 + values.count) : name == "kinds" ? "charts" : "cli dev-\(values.count + 7)"
            }
            let written = TaskText.text(template.key, values)
            let family = try #require(TaskText.Family.allCases.first { template.key.hasPrefix($0.rawValue) })
            let read = try #require(TaskText.parse(written, family: family), "\(written)")
            // Two keys may share a text (two failures' "Make a new plan."): either reads it.
            #expect(read.key == template.key || english[read.key] == english[template.key], "\(written)")
            #expect(read.values == values, "\(written)")
            // And the Russian text has every value it was written with (an asset kind named in Russian).
            let ru = Localizer(language: "ru").taskText(written, family)
            var shown = values
            if shown["kinds"] != nil { shown["kinds"] = "графики" }
            #expect(ru != written && shown.values.allSatisfy { ru.contains($0) }, "\(ru)")
        }
    }

    @Test func aStepIsShownInTheReadersLanguage() {
        let ru = Localizer(language: "ru"), en = Localizer(language: "en")
        #expect(ru.step("plan ready") == "план готов")
        #expect(ru.step("exporting dashboards 51-100 of 2000") == "экспорт дашборды: 51–100 из 2000")
        #expect(ru.step("exporting widgets 1-2 of 2") == "экспорт widgets: 1–2 из 2", "a kind the catalogue doesn't name stays")
        // A step cut after any of a template's literal texts is no template's (never a crash).
        for template in TaskText.templates {
            var text = ""
            for part in template.parts {
                guard case .text(let literal) = part else { continue }
                text += literal
                #expect(ru.step(text).isEmpty == false)
                text += "x"
            }
        }
        #expect(ru.step(String(repeating: "exporting " + String(repeating: " -", count: 2_000), count: 1)) != "")
        #expect(ru.step("reading prod eu's assets") == "чтение объектов prod eu")
        #expect(en.step("reading prod eu's assets") == "reading prod eu's assets")
        // A plugin's own text, and nothing at all, stay as they are.
        #expect(ru.step("calibrating the flux capacitor") == "calibrating the flux capacitor")
        #expect(ru.step("") == "")
    }

    /// A failure's cause and next action, and an input request's prompt inside a step or a
    /// failure, read back in Russian; Superset's own words and a plugin's stay as they are.
    @Test func failuresAndPromptsAreShownInTheReadersLanguage() {
        let ru = Localizer(language: "ru")
        let failure = TaskFailure(key: "no_target_connection", ["target": "prod eu", "database": "examples"])
        #expect(failure.message == "prod eu has no database connection to map 'examples' to.")
        #expect(ru.failureText(failure.message) == "В prod eu нет подключения к базе данных, с которым можно сопоставить «examples».")
        #expect(ru.failureText(failure.nextAction).hasPrefix("Создайте подключение в prod eu в Superset"))
        let prompt = TaskText.text("input.map_database.prompt", ["database": "examples", "backend": "postgresql", "target": "prod", "suggestions": "main (postgresql, 90%)"])
        let waiting = TaskText.english("waiting_for_input", ["prompt": prompt])
        #expect(ru.step(waiting).contains("Сопоставьте исходную базу данных «examples» (postgresql) с подключением в prod. Варианты: main (postgresql, 90%)"), "\(ru.step(waiting))")
        let timedOut = TaskFailure(key: "input_timeout", ["seconds": "900", "prompt": prompt])
        #expect(ru.failureText(timedOut.message).hasPrefix("Ответ на запрос не пришёл за 900 с: Сопоставьте"), "\(ru.failureText(timedOut.message))")
        #expect(ru.failureText("The flux capacitor overheated") == "The flux capacitor overheated", "a plugin's own words stay")
        // A value holding its template's own separators: the first place each next text occurs
        // ends a value, and the last text ends the whole.
        #expect(ru.failureText("git push failed: error: failed to push some refs") == "git push завершился с ошибкой: error: failed to push some refs")
        #expect(ru.failureText("git is not installed (/opt/git is missing) is missing).") == "git не установлен (/opt/git is missing) отсутствует).")
        // Each field is read against its own family: a connection named like a step stays a name.
        #expect(ru.inputText("plan ready") == "plan ready" && ru.failureText("plan ready") == "plan ready")
        #expect(ru.step("plan ready") == "план готов")
        #expect(ru.failureText("The remote x refused Ferry's credentials (push).") == "Удалённый репозиторий x отклонил учётные данные Ferry (push).")
    }

    /// SupersetKit words a Superset failure itself (it knows no catalogue): each wording is its
    /// `failure.superset_*` template's, so a page shows it in Russian.
    @Test func supersetFailuresReadBackInRussian() throws {
        let ru = Localizer(language: "ru")
        let cases: [(SupersetError, String)] = [
            (.invalidURL("no host"), "failure.superset_invalid_url"), (.unreachable("connection refused"), "failure.superset_unreachable"),
            (.timeout(seconds: 7.5), "failure.superset_timeout"), (.tls("bad certificate"), "failure.superset_tls"),
            (.notSuperset("no token"), "failure.superset_not_superset"), (.badCredentials("401"), "failure.superset_bad_credentials"),
            (.forbidden("403"), "failure.superset_forbidden"), (.notFound("dashboard 7"), "failure.superset_not_found"),
            (.rateLimited, "failure.superset_rate_limited"), (.http(status: 500, message: "boom"), "failure.superset_http"),
            (.invalidResponse("not JSON"), "failure.superset_invalid_response"),
            (.importFailed([ImportProblem(path: "charts/a.yaml", message: "bad")]), "failure.superset_import_refused"),
        ]
        for (error, key) in cases {
            let (cause, next) = TaskEngine.describe(error)
            #expect(TaskText.parse(cause, family: .failure)?.key == key, "\(cause)")
            #expect(ru.failureText(cause) != cause && ru.failureText(next) != next, "\(cause) / \(next)")
        }
        #expect(ru.failureText(TaskEngine.describe(SupersetError.unreachable("connection refused")).0) == "Superset недоступен: connection refused")
    }

    /// Hostile texts of the longest length read back are matched in one pass: each would take
    /// billions of steps if every place a separator occurs were tried.
    @Test(.timeLimit(.minutes(1))) func hostileTextsAreReadInOnePass() {
        let ru = Localizer(language: "ru")
        let steps = "exporting " + String(repeating: "x -", count: 1_330)
        #expect(ru.step(steps) == steps)
        let failure = "The remote " + String(repeating: "x can't be reached (", count: 190)
        #expect(ru.failureText(failure) == failure)
        let prompt = String(repeating: "Map source database '", count: 180)
        #expect(ru.inputText(prompt) == prompt)
    }

    /// The task's page and the activity drawer show a queued task's step in Russian; the API
    /// keeps the English text.
    @Test func theTaskPageShowsTheStepInRussian() async throws {
        try await withFerry(.sqlite) { t in
            let task = try await t.submit("diagnostics.sleep", params(["seconds": .int(1)]))
            var ru = HTTPHeaders()
            ru.replaceOrAdd(name: .cookie, value: "ferry_lang=ru")
            ru.replaceOrAdd(name: .accept, value: "text/html")
            let page = try await t.request(.GET, "/tasks/\(task.id)", headers: ru).body.string
            #expect(page.contains("в очереди"), "\(page.prefix(300))")
            let drawer = try await t.request(.GET, "/activity", headers: ru).body.string
            #expect(drawer.contains("в очереди"))
            let api = try await t.request(.GET, "/api/tasks/\(task.id)").json()
            #expect(api["step"]?.stringValue == "queued")
        }
    }
}
