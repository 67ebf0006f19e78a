import Foundation

extension SchedulesPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("schedules.title") }
        var nav: NavItem? { .schedules }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("schedules.title")),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                model.schedules.isEmpty ? H.el("p", [("class", "empty")], text: l.t("schedules.none")) : table(l),
                model.canWrite ? H.group([H.el("h2", text: l.t("schedules.add")), form(l)]) : H.group([]),
            ])
        }

        func table(_ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", "schedules")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("schedules.col.name")), H.el("th", text: l.t("schedules.col.plugin")),
                    H.el("th", text: l.t("schedules.col.cron")), H.el("th", text: l.t("schedules.col.next")),
                    H.el("th", text: l.t("schedules.col.last")), H.el("th", text: l.t("environments.col.actions")),
                ])]),
                H.el("tbody", [], model.schedules.map { s in
                    H.el("tr", [("data-schedule", s.name)], [
                        H.el("td", [], [H.el("strong", text: s.name), s.enabled ? H.group([]) : H.el("span", [("class", "badge")], text: l.t("schedules.disabled"))]),
                        H.el("td", [], [H.text(l.pluginName(s.plugin)), H.void("br", []), H.el("small", text: s.params.jsonText())]),
                        H.el("td", [], [H.el("code", text: s.cron), H.text(" (\(s.timeZone))")]),
                        H.el("td", [("data-testid", "next-run")], [Components.time(s.enabled ? s.nextRunAt : nil, l)]),
                        H.el("td", [], [Components.time(s.lastRunAt, l)]),
                        !model.canWrite ? H.el("td", []) : H.el("td", [("class", "actions")], [
                            H.el("form", [("method", "post"), ("action", SiteURL.scheduleTogglePage(.value(s.id)).path), ("class", "inline")], [
                                H.el("button", [("type", "submit"), ("class", "button")], text: l.t(s.enabled ? "schedules.disable" : "schedules.enable")),
                            ]),
                            H.el("form", [("method", "post"), ("action", SiteURL.scheduleDeletePage(.value(s.id)).path), ("class", "inline"),
                                          ("data-confirm", l.t("schedules.delete_confirm", ["name": s.name]))], [
                                H.el("button", [("type", "submit"), ("class", "button danger")], text: l.t("environments.delete")),
                            ]),
                        ]),
                    ])
                }),
            ])
        }

        func form(_ l: Localizer) -> HTMLNode {
            let f = model.form
            return H.el("form", [("method", "post"), ("action", SiteURL.schedulesPage.path), ("class", "stacked"), ("data-testid", "schedule-form")], [
                model.formError.map { Components.notice("error", title: l.t("schedules.not_saved"), detail: $0, testID: "form-error") } ?? H.group([]),
                Components.field("name", label: l.t("schedules.col.name"), value: f.name, required: true, error: model.errors["name"]),
                Components.select("plugin", label: l.t("schedules.col.plugin"), options: model.plugins.map { (value: $0, label: l.pluginName($0)) },
                                  selected: f.plugin, error: model.errors["plugin"]),
                Components.field("params", label: l.t("schedules.params"), value: f.params, hint: l.t("schedules.params_hint"),
                                 error: model.errors["params"]),
                Components.field("cron", label: l.t("schedules.col.cron"), value: f.cron, required: true, hint: l.t("schedules.cron_hint"),
                                 error: model.errors["cron"], placeholder: "30 2 * * MON-FRI"),
                Components.field("timeZone", label: l.t("schedules.zone"), value: f.timeZone, error: model.errors["timeZone"]),
                H.el("div", [("class", "form-actions")], [
                    H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "save-schedule")], text: l.t("environment_form.save")),
                ]),
            ])
        }
    }
}
