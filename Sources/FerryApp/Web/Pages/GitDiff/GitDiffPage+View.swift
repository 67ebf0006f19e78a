import Foundation
import SupersetKit

extension GitDiffPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("git_diff.title", ["dashboard": model.title]) }
        var nav: NavItem? { .git }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("p", [], [H.a(GitComponents.historyPath(environment: model.environmentID, dashboard: model.dashboard),
                                   "← " + l.t("git_history.title", ["dashboard": model.title]), [("data-testid", "git-history-back")])]),
                model.diff.map { d in
                    H.el("h1", [("data-testid", "git-diff-heading")], text: l.t("git_diff.heading", ["from": side(d.from, l), "to": side(d.to, l)]))
                } ?? H.el("h1", text: l.t("git_diff.title", ["dashboard": model.title])),
                H.el("p", [("class", "muted")], text: l.t("git_diff.dashboard", ["dashboard": model.title, "environment": model.environment])),
                model.error.map { Components.notice("error", title: l.t("git_diff.failed"), detail: $0, testID: "git-diff-error") } ?? H.group([]),
                model.diff.map { body($0, l) } ?? H.group([]),
            ])
        }

        /// A side for people: "dev @ 1a2b3c4d5e6f" or "prod, live in Superset".
        func side(_ s: GitSideDTO, _ l: Localizer) -> String {
            guard let revision = s.revision else { return l.t("git_diff.side_live", ["environment": s.environment]) }
            return l.t("git_diff.side_revision", ["environment": s.environment, "sha": String(revision.prefix(12))])
        }

        func body(_ d: GitDiffDTO, _ l: Localizer) -> HTMLNode {
            let from = side(d.from, l), to = side(d.to, l)
            return H.group([
                d.identical
                    ? Components.notice("info", title: l.t("git_diff.identical"), testID: "git-diff-identical")
                    : H.el("p", [("data-testid", "git-diff-summary")], text: l.t("git_diff.summary", ["count": String(d.files.count)])),
                H.group(d.files.map { file($0, from: from, to: to, l) }),
                d.unified.isEmpty ? H.group([]) : H.el("details", [("class", "unified"), ("data-testid", "git-unified")], [
                    H.el("summary", text: l.t("git_diff.unified")),
                    H.el("pre", text: d.unified),
                ]),
            ])
        }

        /// One file: its kind, name and status, then its differing fields side by side.
        func file(_ f: GitFileDiff, from: String, to: String, _ l: Localizer) -> HTMLNode {
            H.el("section", [("class", "git-file"), ("data-testid", "git-diff-file"), ("data-path", f.path), ("data-kind", f.kind.rawValue),
                             ("data-status", f.status.rawValue)], [
                H.el("h2", [], [
                    H.el("span", [("class", "badge"), ("data-field", "kind")], text: l.t("plan.kind.\(f.kind.rawValue)")),
                    H.text(" " + f.name + " "),
                    status(f.status, l),
                ]),
                H.el("p", [], [H.el("small", [("class", "muted")], [H.el("code", text: f.path)])]),
                f.fields.isEmpty
                    ? H.el("p", [("class", "muted")], text: l.t("git_diff.no_fields"))
                    : H.el("table", [("class", "grid git-diff")], [
                        H.el("thead", [], [H.el("tr", [], [
                            H.el("th", text: l.t("git_diff.col.field")), H.el("th", text: from), H.el("th", text: to),
                        ])]),
                        H.el("tbody", [], f.fields.map { field in
                            H.el("tr", [("data-testid", "git-diff-field"), ("data-field", field.field)], [
                                H.el("td", [], [H.el("code", text: field.field)]),
                                value(field.old, l),
                                value(field.new, l),
                            ])
                        }),
                    ]),
            ])
        }

        func value(_ text: String?, _ l: Localizer) -> HTMLNode {
            guard let text else { return H.el("td", [("class", "absent")], [H.el("em", text: l.t("git_diff.absent"))]) }
            return H.el("td", [], [H.el("pre", text: text)])
        }

        func status(_ s: GitFileDiff.Status, _ l: Localizer) -> HTMLNode {
            let label: String
            switch s {
            case .added: label = l.t("git_diff.status.added")
            case .removed: label = l.t("git_diff.status.removed")
            case .changed: label = l.t("git_diff.status.changed")
            }
            return H.el("span", [("class", "badge diff-\(s.rawValue)"), ("data-field", "status")], text: label)
        }
    }
}
