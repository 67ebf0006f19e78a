import Foundation
import SupersetKit

extension TaskDetailPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("task.title", ["plugin": localizer.pluginName(model.task.plugin)]) }
        var nav: NavItem? { .tasks }

        func content(_ l: Localizer) -> HTMLNode {
            let t = model.task
            return H.el("div", [("data-task", t.id.uuidString.lowercased()), ("data-from", String(model.lines.last.map { $0.seq + 1 } ?? 0)),
                                ("data-level", model.level), ("data-source", model.source), ("data-live-stopped", l.t("task.live_stopped"))], [
                H.el("div", [("class", "page-head")], [
                    H.el("h1", text: l.t("task.title", ["plugin": l.pluginName(t.plugin)])),
                    t.status.isFinished || !model.canCancel ? H.group([]) :
                        H.el("form", [("method", "post"), ("action", SiteURL.taskCancelPage(.value(t.id)).path), ("class", "inline"),
                                      ("data-confirm", l.t("task.cancel_confirm"))], [
                            H.el("button", [("type", "submit"), ("class", "button danger"), ("data-testid", "cancel-task")], text: l.t("task.cancel")),
                        ]),
                ]),
                model.flash.map { Components.notice("success", title: $0, testID: "flash") } ?? H.group([]),
                H.el("dl", [("class", "facts")], [
                    H.el("dt", text: l.t("tasks.col.status")), H.el("dd", [("data-testid", "task-status")], [Components.taskStatus(t.status, l)]),
                    H.el("dt", text: l.t("tasks.col.progress")),
                    H.el("dd", [], [
                        H.el("progress", [("max", "100"), ("value", String(t.progress)), ("data-field", "progress")], text: "\(t.progress)%"),
                        H.el("span", [("data-field", "step"), ("data-testid", "task-step")], text: " " + l.step(t.step)),
                    ]),
                    H.el("dt", text: l.t("tasks.col.environments")), H.el("dd", text: t.environments.joined(separator: ", ")),
                    H.el("dt", text: l.t("tasks.col.user")), H.el("dd", text: t.createdBy),
                    H.el("dt", text: l.t("tasks.col.created")), H.el("dd", [], [Components.time(t.createdAt, l)]),
                ]),
                model.reportID.map { H.el("p", [], [H.a(SiteURL.reportPage(.value($0)).path, l.t("task.open_report"), [("data-testid", "task-report")])]) }
                    ?? H.group([]),
                t.error.map { Components.notice("error", title: l.failureText($0), detail: t.nextAction.map(l.failureText), testID: "task-error") } ?? H.group([]),
                t.result.map { H.el("section", [("class", "task-result")], [
                    H.el("h2", text: l.t("task.result")), Components.readable($0, testID: "task-result", l),
                ]) } ?? H.group([]),
                H.el("section", [("class", "task-params")], [
                    H.el("h2", text: l.t("task.params")), Components.readable(t.params, testID: "task-params", l),
                ]),
                inputForm(l),
                logs(l),
            ])
        }

        func inputForm(_ l: Localizer) -> HTMLNode {
            guard model.task.status == .awaitingInput, model.canAnswer, let request = model.task.inputRequest else { return H.group([]) }
            return Components.taskInputForm(taskID: model.task.id, request: request, error: model.inputError, formID: "input", idPrefix: "f-", testIDPrefix: "", l)
        }

        func logs(_ l: Localizer) -> HTMLNode {
            let levels = [("", l.t("task.log.all_levels"))] + LogLevel.allCases.map { ($0.rawValue, $0.rawValue) }
            let sources = [("", l.t("task.log.all_sources"))] + model.sources.map { ($0, $0) }
            return H.group([
                H.el("h2", text: l.t("task.log")),
                H.el("form", [("method", "get"), ("action", SiteURL.taskPage(.value(model.task.id)).path), ("class", "search")], [
                    H.el("select", [("name", "level"), ("data-autosubmit", ""), ("aria-label", l.t("task.log.level"))], levels.map { v, t in
                        H.el("option", [("value", v), ("selected", H.flag(v == model.level))], text: t)
                    }),
                    H.el("select", [("name", "source"), ("data-autosubmit", ""), ("aria-label", l.t("task.log.source"))], sources.map { v, t in
                        H.el("option", [("value", v), ("selected", H.flag(v == model.source))], text: t)
                    }),
                    H.el("label", [], [
                        H.void("input", [("type", "checkbox"), ("id", "autoscroll"), ("checked", "")]), H.text(" " + l.t("task.log.autoscroll")),
                    ]),
                ]),
                H.el("table", [("class", "grid log"), ("data-testid", "task-log")], [
                    H.el("tbody", [], model.lines.map { line in
                        H.el("tr", [("class", "level-\(line.level.rawValue)"), ("data-seq", String(line.seq))], [
                            H.el("td", [("class", "muted")], [Components.time(line.at, l)]),
                            H.el("td", text: line.level.rawValue), H.el("td", text: line.source), H.el("td", text: line.message),
                        ])
                    }),
                ]),
            ])
        }
    }
}
