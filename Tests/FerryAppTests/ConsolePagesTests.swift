import Foundation
import SupersetKit
import Testing

@testable import FerryApp

/// Issue 17's readable console: tasks named for people, their params and results as tables.
extension ViewSnapshotTests {
    static let consoleTaskID = UUID(uuidString: "00000000-0000-4000-8000-000000000171")!

    /// A finished promotion apply whose result holds a hostile title, a list of records, nested
    /// counts and more rows than a table shows.
    static var promotionTask: TaskDTO {
        let charts: [BundleValue] = (1...103).map { i in
            .map(["title": .string(i == 1 ? "<script>alert(1)</script>" : "Chart \(i)"), "verified": .bool(i != 2), "rows": .int(i * 10)])
        }
        return TaskDTO(id: consoleTaskID, plugin: "promote.apply",
                       params: .map(["plan": .string("00000000-0000-4000-8000-000000000172"), "acceptLosses": .bool(false)]),
                       createdBy: "ada", environmentIds: [], environments: ["dev", "prod"], status: .succeeded, progress: 100, step: "done",
                       createdAt: fixed, startedAt: fixed, finishedAt: fixed,
                       result: .map(["counts": .map(["create": .int(3), "update": .int(1)]), "charts": .list(charts),
                                     "tags": .list([.string("finance"), .string("\" onmouseover=\"alert(1)")]), "unnamedKey": .double(12.5),
                                     "nothing": .null]),
                       error: nil, nextAction: nil, inputRequest: nil, inputDeadline: nil, node: nil, logLines: 0)
    }

    @Test func aTaskWithItsResultAsTables() throws {
        let model = TaskDetailPage.Model(task: Self.promotionTask, lines: [], level: "", source: "", sources: [])
        for lang in ["en", "ru"] {
            let html = Layout.render(TaskDetailPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/tasks"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            // Hostile text stays text: no tag, and no attribute (an attribute would sit inside a tag).
            #expect(!html.contains("<script>alert") && html.range(of: #"<[^>]*\sonmouseover="#, options: .regularExpression) == nil)
            try assertSnapshot(html, named: "task-promotion-\(lang)")
        }
        let html = Layout.render(TaskDetailPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/tasks"))
        // Named for people, in the title and the heading.
        #expect(html.contains("<h1>Task: Apply a promotion</h1>") || html.contains(">Apply a promotion<"), "the plugin's name")
        #expect(!html.contains("<h1>Task: promote.apply"))
        // The result: named rows, nested counts, a list of records as a table with badges.
        #expect(html.contains(#"<th scope="row">Counts</th>"#) && html.contains(#"<th scope="row">Created</th>"#))
        #expect(html.contains(#"<th scope="col">Title</th>"#) && html.contains(#"<th scope="col">Verified</th>"#))
        #expect(html.contains(#"<span class="badge ok">yes</span>"#) && html.contains(#"<span class="badge">no</span>"#))
        // Bounded: 100 of the 103 charts, and the rest counted.
        let tables = String(html[..<(html.range(of: #"<details class="raw-json">"#)?.lowerBound ?? html.endIndex)])
        #expect(tables.contains("Chart 100") && !tables.contains("Chart 101"))
        #expect(html.contains(">and 3 more<"))
        // A key the catalogue doesn't name shows as it is; the raw JSON stays one click away.
        #expect(html.contains("<code>unnamedKey</code>") && html.contains("12.50"))
        #expect(html.contains(#"<details class="raw-json">"#) && html.contains(#""title":"Chart 103""#))
        // The params as a table too.
        #expect(html.contains(#"data-testid="task-params""#) && html.contains(#"<th scope="row">Losses accepted</th>"#))
        let ru = Layout.render(TaskDetailPage.View(model: model, localizer: Localizer(language: "ru")), context: context("ru", path: "/tasks"))
        #expect(ru.contains("Применение переноса") && ru.contains(#"<span class="badge ok">да</span>"#))
    }

    @Test func everyRegisteredPluginHasANameInEveryLanguage() async throws {
        try await withFerry(.sqlite) { t in
            let ids = t.app.taskEngine.registry.all.map(\.id)
            #expect(ids.count >= 16)
            for lang in Localizer.languages {
                let l = Localizer(language: lang)
                for id in ids { #expect(l.pluginName(id) != id, "\(lang): \(id) has no name") }
                #expect(l.pluginName("custom.plugin") == "custom.plugin", "an unnamed plugin shows its id")
            }
        }
    }
}
