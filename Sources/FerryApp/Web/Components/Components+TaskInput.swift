import Foundation
import SupersetKit

extension Components {
    /// The form answering a task's input request, posted to the task's input route: each
    /// property of the request's JSON Schema a field (a closed choice a select named by
    /// `x-enumLabels`, a boolean a checkbox, a `writeOnly` string a password field), the prompt
    /// and texts in the reader's language (`Localizer.inputText`).
    ///
    /// Used on the task's page and in the activity drawer, which can share a page: `idPrefix`
    /// and `testIDPrefix` keep their ids apart.
    static func taskInputForm(
        taskID: UUID, request: BundleValue, error: String?, formID: String?, idPrefix: String, testIDPrefix: String, _ l: Localizer
    ) -> HTMLNode {
        let schema = request["schema"] ?? .map([:])
        let required = Set(schema["required"]?.listValue?.compactMap(\.stringValue) ?? [])
        let fields = (schema["properties"]?.mapValue ?? [:]).sorted { $0.key < $1.key }.map { name, prop -> HTMLNode in
            let title = prop["title"]?.stringValue.map(l.inputText) ?? name
            if let options = prop["enum"]?.listValue?.compactMap(\.stringValue), !options.isEmpty {
                let labels = prop["x-enumLabels"]?.listValue?.compactMap(\.stringValue) ?? []
                return H.group([
                    Components.select("input.\(name)", label: title, options: options.enumerated().map { i, value in
                        (value: value, label: i < labels.count ? l.inputText(labels[i]) : value)
                    }, selected: options.first, idPrefix: idPrefix),
                    prop["description"].flatMap(\.stringValue).map { H.el("small", text: l.inputText($0)) } ?? H.group([]),
                ])
            }
            if prop["type"]?.stringValue == "boolean" {  // absent when unchecked: the handler reads false
                return H.el("div", [("class", "field checkbox")], [
                    H.void("input", [("id", "\(idPrefix)input.\(name)"), ("type", "checkbox"), ("name", "input.\(name)"), ("value", "true"),
                                     ("checked", H.flag(prop["default"]?.boolValue == true))]),
                    H.el("label", [("for", "\(idPrefix)input.\(name)")], text: title),
                ])
            }
            let type: String
            switch prop["type"]?.stringValue {
            case "integer", "number": type = "number"
            default: type = prop["writeOnly"]?.boolValue == true ? "password" : "text"
            }
            return Components.field("input.\(name)", label: title, value: nil, type: type, required: required.contains(name),
                                    hint: prop["description"]?.stringValue.map(l.inputText), idPrefix: idPrefix)
        }
        return H.el("form", [("method", "post"), ("action", SiteURL.taskInputPage(.value(taskID)).path), ("class", "stacked"),
                             ("id", formID), ("data-testid", testIDPrefix + "input-form")], [
            H.el("strong", text: request["prompt"]?.stringValue.map(l.inputText) ?? l.t("task.input")),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
            H.group(fields),
            H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", testIDPrefix + "send-input")], text: l.t("task.send_input")),
        ])
    }
}
