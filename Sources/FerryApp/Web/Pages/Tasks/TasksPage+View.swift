import Foundation

extension TasksPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("tasks.title") }
        var nav: NavItem? { .tasks }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("tasks.title")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                launcher(l),
                filters(l),
                H.el("p", [("class", "muted"), ("data-testid", "task-count")], text: l.t("tasks.count", ["count": String(model.total)])),
                model.tasks.isEmpty ? H.el("p", [("class", "empty")], text: l.t("tasks.none")) : table(l),
            ])
        }

        func launcher(_ l: Localizer) -> HTMLNode {
            guard !model.healthCheckEnvironments.isEmpty else { return H.group([]) }
            return H.el("form", [("method", "post"), ("action", SiteURL.tasksPage.path), ("class", "search"), ("data-testid", "health-check-form")], [
                H.void("input", [("type", "hidden"), ("name", "plugin"), ("value", "environment.health_check")]),
                H.el("label", [("for", "hc-env")], text: l.t("tasks.health_check")),
                H.el("select", [("id", "hc-env"), ("name", "environment")], model.healthCheckEnvironments.map { H.el("option", [("value", $0)], text: $0) }),
                H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "start-health-check")], text: l.t("tasks.start")),
            ])
        }

        func filters(_ l: Localizer) -> HTMLNode {
            func select(_ name: String, _ label: String, _ options: [(String, String)], _ selected: String) -> HTMLNode {
                H.group([
                    H.el("label", [("for", "f-\(name)"), ("class", "visually-hidden")], text: label),
                    H.el("select", [("id", "f-\(name)"), ("name", name), ("data-autosubmit", "")],
                         ([("", label)] + options).map { v, t in H.el("option", [("value", v), ("selected", H.flag(v == selected))], text: t) }),
                ])
            }
            let statuses = TaskStatus.allCases.map { ($0.rawValue, l.t("task.status.\($0.rawValue)")) }
            return H.el("form", [("method", "get"), ("action", SiteURL.tasksPage.path), ("class", "search"), ("data-testid", "task-filters")], [
                select("status", l.t("tasks.filter.status"), statuses, model.status),
                select("plugin", l.t("tasks.filter.plugin"), model.plugins.map { ($0, l.pluginName($0)) }, model.plugin),
                select("environment", l.t("tasks.filter.environment"), model.environments.map { ($0, $0) }, model.environment),
                H.el("label", [("for", "f-user"), ("class", "visually-hidden")], text: l.t("tasks.filter.user")),
                H.void("input", [("id", "f-user"), ("type", "search"), ("name", "user"), ("value", model.user), ("placeholder", l.t("tasks.filter.user"))]),
                H.el("button", [("type", "submit"), ("class", "button")], text: l.t("tasks.filter.apply")),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "tasks"), ("data-live-tasks", "")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("tasks.col.task")), H.el("th", text: l.t("tasks.col.status")), H.el("th", text: l.t("tasks.col.progress")),
                    H.el("th", text: l.t("tasks.col.environments")), H.el("th", text: l.t("tasks.col.user")), H.el("th", text: l.t("tasks.col.created")),
                ])]),
                H.el("tbody", [], model.tasks.map { t in
                    H.el("tr", [("data-task-id", t.id.uuidString.lowercased())], [
                        H.el("td", [], [H.a(SiteURL.taskPage(.value(t.id)).path, l.pluginName(t.plugin))]),
                        H.el("td", [], [Components.taskStatus(t.status, l)]),
                        H.el("td", [], [H.el("progress", [("max", "100"), ("value", String(t.progress)), ("data-field", "progress")], text: "\(t.progress)%")]),
                        H.el("td", text: t.environments.joined(separator: ", ")),
                        H.el("td", text: t.createdBy),
                        H.el("td", [], [Components.time(t.createdAt, l)]),
                    ])
                }),
            ])
        }
    }
}
