import Foundation
import SupersetKit

extension PlanPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("plan.title") }
        var nav: NavItem? { .promotions }

        func content(_ l: Localizer) -> HTMLNode {
            let p = model.plan
            return H.group([
                p.sourceBackupId.map { backup in
                    H.el("h1", [], [
                        H.text(l.t("plan.restore_heading", ["source": p.source, "target": p.target]) + " "),
                        H.el("a", [("href", SiteURL.backupPage(.value(backup)).path), ("data-testid", "restore-backup")], text: backup.uuidString.lowercased().prefix(8) + "…"),
                    ])
                } ?? H.el("h1", text: l.t("plan.heading", ["source": p.source, "target": p.target])),
                H.el("p", [("class", "muted")], text: l.t("plan.meta", [
                    "scope": l.t("promote.scope.\(p.scope)"), "who": p.createdBy, "dashboards": (p.dashboards + (p.search.map { ["“\($0)”"] } ?? [])).joined(separator: ", "),
                ])),
                status(l),
                [PlanStatus.ready, .applied, .stale].contains(p.status) ? review(l) : H.group([]),
            ])
        }

        func status(_ l: Localizer) -> HTMLNode {
            let p = model.plan
            switch p.status {
            case .planning:
                guard let task = model.task else { return Components.notice("info", title: l.t("plan.status.planning")) }
                return H.el("div", [("data-task", task.id.uuidString.lowercased()), ("data-from", String(Int32.max)), ("data-testid", "planning")], [
                    H.el("p", [], [Components.taskStatus(task.status, l), H.el("span", [("data-field", "step")], text: " " + l.step(task.step))]),
                    H.el("progress", [("max", "100"), ("value", String(task.progress)), ("data-field", "progress")]),
                    task.status == .awaitingInput
                        ? Components.notice("info", title: l.t("plan.needs_input"), detail: task.inputRequest?["prompt"]?.stringValue.map(l.inputText), testID: "needs-input")
                        : H.group([]),
                    H.el("p", [], [H.el("a", [("href", SiteURL.taskPage(.value(task.id)).path), ("class", "button"), ("data-testid", "plan-task")],
                                        text: task.status == .awaitingInput ? l.t("plan.answer") : l.t("plan.follow"))]),
                ])
            case .failed:
                return Components.notice("error", title: l.t("plan.status.failed"), detail: p.error.map(l.failureText), testID: "plan-failed")
            case .applied:
                return Components.notice("info", title: l.t("plan.status.applied"), testID: "plan-applied")
            case .stale:
                return Components.notice("error", title: l.t("plan.status.stale"), testID: "plan-stale")
            default:
                return H.group([])
            }
        }

        func review(_ l: Localizer) -> HTMLNode {
            let p = model.plan
            let s = p.summary
            return H.group([
                H.el("p", [("data-testid", "plan-summary")], text: l.t("plan.summary", [
                    "create": String(s.create), "update": String(s.update), "unchanged": String(s.unchanged), "conflict": String(s.conflict),
                ])),
                versions(l),
                H.el("h2", text: l.t("plan.mappings")),
                mappings(l),
                H.el("h2", text: l.t("plan.items")),
                H.el("table", [("class", "grid"), ("data-testid", "plan-items")], [
                    H.el("thead", [], [H.el("tr", [], [
                        H.el("th", text: l.t("plan.col.action")), H.el("th", text: l.t("plan.col.kind")),
                        H.el("th", text: l.t("plan.col.name")), H.el("th", text: l.t("plan.col.why")),
                    ])]),
                    H.el("tbody", [], p.items.map { item in
                        H.el("tr", [("data-action", item.action.rawValue), ("class", item.blocking ? "level-error" : item.action == .conflict ? "level-warning" : nil)], [
                            H.el("td", [], [H.el("span", [("class", "badge action-\(item.action.rawValue)")], text: l.t("plan.action.\(item.action.rawValue)"))]),
                            H.el("td", text: l.t("plan.kind.\(item.kind.rawValue)")),
                            H.el("td", text: item.name),
                            H.el("td", [], [
                                H.el("small", text: (item.reasons + (item.defaulted.map {
                                    [l.t("plan.defaulted", ["target": p.target, "fields": $0.joined(separator: ", ")])] } ?? [])).joined(separator: "; ")),
                                changes(item, l),
                            ]),
                        ])
                    }),
                ]),
                losses(l),
                p.status == .ready ? apply(l) : H.group([]),
            ])
        }

        /// Each source connection and the target's it maps to, with the match's confidence;
        /// when the viewer may change it, a list of the target's connections (best first) and a
        /// button that saves the choice and makes the plan again.
        func mappings(_ l: Localizer) -> HTMLNode {
            let p = model.plan
            let rows = model.mappingRows
            guard !rows.isEmpty else { return H.el("p", [("class", "muted")], text: l.t("plan.no_mappings")) }
            let table = H.el("table", [("class", "grid"), ("data-testid", "plan-mappings")], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", text: l.t("plan.mapping.source", ["source": p.source])), H.el("th", text: l.t("plan.mapping.target", ["target": p.target])),
                    H.el("th", text: l.t("plan.mapping.confidence")),
                ])]),
                H.el("tbody", [], rows.map { m in
                    let field = Model.remapField(m.source)
                    return H.el("tr", [("data-source-database", m.source.uuid)], [
                        H.el("td", [], [H.el("strong", text: m.source.name), H.void("br", []), H.el("small", text: m.source.backend)]),
                        H.el("td", [], model.canRemap && !m.options.isEmpty ? [
                            H.el("label", [("for", field), ("class", "visually-hidden")], text: l.t("plan.mapping.pick", ["source": m.source.name, "target": p.target])),
                            H.el("select", [("id", field), ("name", field), ("data-testid", "remap-\(m.source.name)")], m.options.map { o in
                                H.el("option", [("value", o.target.uuid), ("selected", H.flag(o.target.uuid == m.target.uuid))],
                                     text: l.t("plan.mapping.option", ["name": o.target.name, "backend": o.target.backend, "confidence": String(o.confidence)]))
                            }),
                        ] : [H.el("strong", text: m.target.name), H.void("br", []), H.el("small", text: m.target.backend)]),
                        H.el("td", [], [m.confidence.map(confidenceBadge) ?? H.el("span", [("class", "muted")], text: "—")]),
                    ])
                }),
            ])
            guard model.canRemap else { return table }
            return H.el("form", [("method", "post"), ("action", SiteURL.planRemapPage(.value(p.id)).path), ("data-testid", "remap-form")], [
                model.remapError.map { Components.notice("error", title: l.t("plan.mapping.not_changed"), detail: $0, testID: "remap-error") } ?? H.group([]),
                table,
                H.el("div", [("class", "form-actions")], [
                    H.el("button", [("type", "submit"), ("class", "button"), ("data-testid", "remap")], text: l.t("plan.mapping.replan")),
                    H.el("small", [("class", "muted")], text: " " + l.t("plan.mapping.replan_hint")),
                ]),
            ])
        }

        /// A match's confidence as a badge: green from 80, amber from 50, red below.
        func confidenceBadge(_ confidence: Int) -> HTMLNode {
            H.el("span", [("class", confidence >= 80 ? "badge ok" : confidence >= 50 ? "badge health-warn" : "badge error"),
                          ("data-confidence", String(confidence))], text: "\(confidence)%")
        }

        /// What an update changes, field by field, folded: the target's value now and after.
        func changes(_ item: PlanItem, _ l: Localizer) -> HTMLNode {
            guard let changes = item.changes, !changes.isEmpty else { return H.group([]) }
            return H.el("details", [("class", "field-diff"), ("data-testid", "item-diff")], [
                H.el("summary", text: l.t("plan.diff.summary", ["count": String(changes.count) + (item.moreChanges == true ? "+" : "")])),
                H.el("table", [("class", "grid compact")], [
                    H.el("thead", [], [H.el("tr", [], [
                        H.el("th", text: l.t("plan.diff.field")), H.el("th", text: l.t("plan.diff.before", ["target": model.plan.target])),
                        H.el("th", text: item.action == .unchanged ? l.t("plan.diff.source", ["source": model.plan.source]) : l.t("plan.diff.after")),
                    ])]),
                    H.el("tbody", [], changes.map { c in
                        H.el("tr", [("data-field", c.field)], [
                            H.el("td", [], [H.el("code", text: c.field)]),
                            H.el("td", [("class", "diff-before")], [c.before.map { H.el("code", text: $0) } ?? H.el("span", [("class", "muted")], text: l.t("plan.diff.absent"))]),
                            H.el("td", [("class", "diff-after")], [c.after.map { H.el("code", text: $0) } ?? H.el("span", [("class", "muted")], text: l.t("plan.diff.removed"))]),
                        ])
                    }),
                ]),
                item.moreChanges == true ? H.el("p", [("class", "muted")], text: l.t("plan.diff.more", ["count": String(changes.count)])) : H.group([]),
            ])
        }

        /// "Superset 6.1.0 → 5.0.0" with a badge: a downgrade, an upgrade, or imported as is.
        func versions(_ l: Localizer) -> HTMLNode {
            let p = model.plan
            guard let source = p.sourceVersion, let target = p.targetVersion, let direction = p.versionChange else { return H.group([]) }
            return H.el("p", [("data-testid", "plan-versions")], [
                H.text(l.t("plan.versions", ["source": source, "target": target]) + " "),
                H.el("span", [("class", "badge version-\(direction)"), ("data-direction", direction)], text: l.t("plan.version.\(direction)")),
            ])
        }

        /// What the target's older release can't take: one row per removed value, per asset.
        func losses(_ l: Localizer) -> HTMLNode {
            let p = model.plan
            let rows = p.items.flatMap { item in item.writtenLosses.map { (item, $0) } }
            guard !rows.isEmpty else { return H.group([]) }
            return H.group([
                H.el("h2", text: l.t("plan.losses", ["target": p.target])),
                H.el("p", [("class", "muted")], text: l.t("plan.losses_intro", ["target": p.target])),
                H.el("table", [("class", "grid"), ("data-testid", "plan-losses")], [
                    H.el("thead", [], [H.el("tr", [], [
                        H.el("th", text: l.t("plan.col.kind")), H.el("th", text: l.t("plan.col.name")),
                        H.el("th", text: l.t("plan.loss.field")), H.el("th", text: l.t("plan.loss.value")), H.el("th", text: l.t("plan.col.why")),
                    ])]),
                    H.el("tbody", [], rows.map { item, loss in
                        H.el("tr", [("data-field", loss.field), ("class", loss.reason == .value ? "level-warning" : "level-error")], [
                            H.el("td", text: l.t("plan.kind.\(item.kind.rawValue)")),
                            H.el("td", text: item.name),
                            H.el("td", [], [H.el("code", text: loss.field)]),
                            H.el("td", [], [H.el("code", text: loss.value)]),
                            H.el("td", [], [H.el("small", text: l.t("plan.loss.reason.\(loss.reason.rawValue)", ["target": p.target]))]),
                        ])
                    }),
                ]),
            ])
        }

        func apply(_ l: Localizer) -> HTMLNode {
            if model.blocking {
                return Components.notice("error", title: l.t("plan.blocked"), detail: l.t("plan.blocked_detail"), testID: "plan-blocked")
            }
            if !model.canApply {
                return Components.notice("info", title: l.t("plan.review_only", ["target": model.plan.target]), testID: "plan-review-only")
            }
            return H.el("form", [("method", "post"), ("action", SiteURL.planApplyPage(.value(model.plan.id)).path), ("class", "stacked"),
                                 ("data-testid", "apply-form"), ("data-confirm", l.t("plan.apply_confirm", ["target": model.plan.target]))], [
                model.applyError.map { Components.notice("error", title: l.t("plan.not_applied"), detail: $0, testID: "apply-error") } ?? H.group([]),
                model.changes ? H.group([]) : Components.notice("info", title: l.t("plan.nothing"), testID: "plan-nothing"),
                model.shared ? Components.checkbox("acceptShared", label: l.t("plan.accept_shared"), checked: false) : H.group([]),
                model.lost ? Components.checkbox("acceptLosses", label: l.t("plan.accept_losses", ["count": String(model.plan.summary.lost)]), checked: false) : H.group([]),
                H.el("div", [("class", "form-actions")], [
                    H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "apply-plan")], text: l.t("plan.apply", ["target": model.plan.target])),
                ]),
            ])
        }
    }
}
