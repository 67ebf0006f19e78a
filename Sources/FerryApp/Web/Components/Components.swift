import Foundation

/// Reusable pieces of pages.
enum Components {
    /// A notice box: kind is info, success or error.
    static func notice(_ kind: String, title: String, detail: String? = nil, testID: String? = nil) -> HTMLNode {
        H.el("div", [("class", "notice \(kind)"), ("role", kind == "error" ? "alert" : "status"), ("data-testid", testID)], [
            H.el("strong", text: title),
            detail.map { H.el("p", text: $0) } ?? H.group([]),
        ])
    }

    /// A labelled form field with its error, if any.
    static func field(
        _ name: String, label: String, value: String?, type: String = "text", required: Bool = false, hint: String? = nil,
        error: String? = nil, placeholder: String? = nil, autocomplete: String? = nil, idPrefix: String = "f-"
    ) -> HTMLNode {
        H.el("div", [("class", error == nil ? "field" : "field invalid")], [
            H.el("label", [("for", "\(idPrefix)\(name)")], text: label),
            H.void("input", [
                ("id", "\(idPrefix)\(name)"), ("name", name), ("type", type), ("value", value), ("required", H.flag(required)),
                ("placeholder", placeholder), ("autocomplete", autocomplete), ("aria-invalid", error == nil ? nil : "true"),
            ]),
            hint.map { H.el("small", text: $0) } ?? H.group([]),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }

    static func select(_ name: String, label: String, options: [(value: String, label: String)], selected: String?, error: String? = nil,
                       idPrefix: String = "f-") -> HTMLNode {
        H.el("div", [("class", error == nil ? "field" : "field invalid")], [
            H.el("label", [("for", "\(idPrefix)\(name)")], text: label),
            H.el("select", [("id", "\(idPrefix)\(name)"), ("name", name)], options.map { option in
                H.el("option", [("value", option.value), ("selected", H.flag(option.value == selected))], text: option.label)
            }),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }

    static func checkbox(_ name: String, label: String, checked: Bool) -> HTMLNode {
        H.el("div", [("class", "field checkbox")], [
            H.void("input", [("type", "hidden"), ("name", name), ("value", "false")]),
            H.void("input", [("id", "f-\(name)"), ("type", "checkbox"), ("name", name), ("value", "true"), ("checked", H.flag(checked))]),
            H.el("label", [("for", "f-\(name)")], text: label),
        ])
    }

    /// "3 minutes ago"-style text is locale-heavy; Ferry shows ISO-like UTC times instead.
    static func time(_ date: Date?, _ l: Localizer) -> HTMLNode {
        guard let date else { return H.el("span", [("class", "muted")], text: l.t("time.never")) }
        return H.el("time", [("datetime", UTCTimestamp.iso(date))], text: UTCTimestamp.text(date))
    }

    /// "Previous · Page 2 of 7 · Next" for a numbered list; nothing when it has one page.
    /// `link` gives a page's address (every filter kept).
    static func pager(page: Int, pageCount: Int, _ l: Localizer, link: (Int) -> String) -> HTMLNode {
        guard pageCount > 1 else { return H.group([]) }
        return H.el("nav", [("class", "pager"), ("aria-label", l.t("pager.label"))], [
            page > 1 ? H.a(link(page - 1), l.t("pager.previous"), [("rel", "prev")]) : H.group([]),
            H.el("span", text: l.t("pager.position", ["page": String(page), "pages": String(pageCount)])),
            page < pageCount ? H.a(link(page + 1), l.t("pager.next"), [("rel", "next")]) : H.group([]),
        ])
    }

    /// A task's status as a badge (the live script updates `data-status`).
    static func taskStatus(_ status: TaskStatus, _ l: Localizer) -> HTMLNode {
        H.el("span", [("class", "badge status-\(status.rawValue)"), ("data-field", "status"), ("data-status", status.rawValue)],
             text: l.t("task.status.\(status.rawValue)"))
    }
}
