import Foundation

extension ActivityPanel {
    /// A fragment (no layout): the drawer's list, or why it is empty.
    struct View {
        let model: Model
        let localizer: Localizer

        func content() -> HTMLNode {
            let l = localizer
            guard !model.tasks.isEmpty else {
                return H.el("div", [("data-activity-count", "0"), ("data-activity-awaiting", "0"),
                                    ("data-activity-label", localizer.t("activity.label", ["count": "0"]))], [
                    H.el("p", [("class", "empty"), ("data-testid", "activity-none")], text: l.t("activity.none")),
                    H.el("p", [], [H.a(SiteURL.tasksPage.path, l.t("activity.all_tasks"))]),
                ])
            }
            return H.el("div", [("data-activity-count", String(model.tasks.count)), ("data-activity-awaiting", String(model.awaitingInput)),
                                ("data-activity-label", localizer.t("activity.label", ["count": String(model.tasks.count)]))], [
                H.el("ul", [("class", "activity-list"), ("data-testid", "activity-list")], model.tasks.map { t in
                    let id = t.id.uuidString.lowercased()
                    return H.el("li", [("data-activity-task", id), ("class", t.status == .awaitingInput ? "awaiting" : nil)], [
                        H.el("div", [("class", "activity-head")], [
                            H.a(SiteURL.taskPage(.value(t.id)).path, l.pluginName(t.plugin), [("data-testid", "activity-task")]),
                            Components.taskStatus(t.status, l),
                        ]),
                        t.environments.isEmpty ? H.group([]) : H.el("small", [("class", "muted")], text: t.environments.joined(separator: " → ")),
                        H.el("progress", [("max", "100"), ("value", String(t.progress)), ("data-field", "progress"),
                                          ("aria-label", l.t("tasks.col.progress"))], text: "\(t.progress)%"),
                        H.el("small", [("data-field", "step")], text: l.step(t.step)),
                        t.status == .awaitingInput ? input(t, id: id, l) : H.group([]),
                    ])
                }),
                H.el("p", [], [H.a(SiteURL.tasksPage.path, l.t("activity.all_tasks"))]),
            ])
        }

        /// A task waiting for input: its question, answered here when the viewer may, and a
        /// link to the task's page either way.
        func input(_ t: Model.Row, id: String, _ l: Localizer) -> HTMLNode {
            guard t.canAnswer else {
                return H.el("p", [("class", "activity-input")], [
                    H.el("strong", text: l.t("activity.waiting_for_someone") + " "),
                    H.a(SiteURL.taskPage(.value(t.id)).path, l.t("activity.open_task"), [("data-testid", "activity-open-task")]),
                ])
            }
            return H.el("div", [("class", "activity-input")], [
                H.el("p", [], [
                    H.el("strong", text: l.t("activity.waiting_for_you") + " "),
                    t.input == nil
                        ? H.a(SiteURL.taskPage(.value(t.id)).path + "#input", l.t("activity.answer"), [("class", "button small primary"), ("data-testid", "activity-answer")])
                        : H.a(SiteURL.taskPage(.value(t.id)).path, l.t("activity.open_task"), [("data-testid", "activity-open-task")]),
                ]),
                t.input.map { request in
                    Components.taskInputForm(taskID: t.id, request: request, error: nil, formID: nil, idPrefix: "a-\(id)-", testIDPrefix: "activity-", l)
                } ?? H.group([]),
            ])
        }
    }
}
