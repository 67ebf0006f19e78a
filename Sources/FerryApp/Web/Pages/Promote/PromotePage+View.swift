import Foundation

extension PromotePage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("promote.title") }
        var nav: NavItem? { .promotions }

        func content(_ l: Localizer) -> HTMLNode {
            let f = model.form
            let source = model.sourceEnvironment
            let target = model.environments.first { $0.id.uuidString.lowercased() == f.target.lowercased() || $0.name == f.target }
            let envs = [(value: "", label: l.t("promote.pick"))] + model.environments.map { (value: $0.id.uuidString.lowercased(), label: $0.name) }
            return H.group([
                H.el("h1", text: l.t("promote.title")),
                H.el("p", [("class", "lead")], text: l.t("promote.lead")),
                model.environments.count < 2
                    ? Components.notice("info", title: l.t("promote.need_two"), testID: "need-two") : H.group([]),
                H.el("form", [("method", "post"), ("action", SiteURL.promotePage.path), ("class", "stacked wide"), ("data-testid", "promote-form")], [
                    model.formError.map { Components.notice("error", title: l.t("promote.not_planned"), detail: $0, testID: "form-error") } ?? H.group([]),
                    H.el("div", [("class", "pair")], [
                        envSelect("source", label: l.t("promote.source"), options: envs, selected: source?.id.uuidString.lowercased() ?? f.source, error: model.errors["source"]),
                        envSelect("target", label: l.t("promote.target"), options: envs, selected: target?.id.uuidString.lowercased() ?? f.target, error: model.errors["target"]),
                    ]),
                    H.el("button", [("type", "submit"), ("name", "action"), ("value", "list"), ("class", "button"), ("formnovalidate", ""),
                                    ("data-testid", "list-dashboards")], text: l.t("promote.list")),
                    dashboards(source, l),
                    Components.select("scope", label: l.t("promote.scope"), options: [
                        (value: "dashboards", label: l.t("promote.scope.dashboards")), (value: "cascade", label: l.t("promote.scope.cascade")),
                    ], selected: f.scope, error: model.errors["scope"]),
                    schemas(l),
                    Components.checkbox("acceptUnknownVersion", label: l.t("promote.accept_unknown_version"), checked: f.acceptUnknownVersion),
                    H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("name", "action"), ("value", "plan"), ("class", "button primary"), ("data-testid", "make-plan")],
                             text: l.t("promote.make_plan")),
                        H.el("a", [("href", SiteURL.promotionsPage.path), ("class", "button")], text: l.t("promotions.title")),
                    ]),
                ]),
            ])
        }

        /// Schema renames: each schema of the source's datasets with a list of the target's
        /// schemas to rename it to (kept as it is unless one is picked); renames to or from a
        /// schema no dataset uses yet typed below, folded away until needed.
        func schemas(_ l: Localizer) -> HTMLNode {
            let f = model.form
            let error = model.errors["schemaMapping"]
            let pickable = !model.sourceSchemas.isEmpty && !model.targetSchemas.isEmpty
            return H.el("fieldset", [("class", error == nil ? "picker" : "picker invalid"), ("data-testid", "schema-picker")], [
                H.el("legend", text: l.t("promote.schemas")),
                error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
                pickable ? H.el("table", [("class", "grid")], [
                    H.el("thead", [], [H.el("tr", [], [
                        H.el("th", [("scope", "col")], text: l.t("promote.schema_source")), H.el("th", [("scope", "col")], text: l.t("promote.schema_target")),
                    ])]),
                    H.el("tbody", [], model.sourceSchemas.map { schema in
                        H.el("tr", [("data-schema", schema)], [
                            H.el("td", [], [H.el("code", text: schema), H.void("input", [("type", "hidden"), ("name", "schemaFrom"), ("value", schema)])]),
                            H.el("td", [], [H.el("select", [("name", "schemaTo"), ("aria-label", l.t("promote.schema_rename", ["schema": schema]))],
                                [H.el("option", [("value", "")], text: l.t("promote.schema_keep"))] + model.targetSchemas.map { target in
                                    H.el("option", [("value", target), ("selected", H.flag(f.schemaPicks[schema] == target))], text: target)
                                })]),
                        ])
                    }),
                ]) : H.el("p", [("class", "muted"), ("data-testid", "schemas-none")],
                          text: l.t(model.targetEnvironment == nil || model.targetEnvironment == model.sourceEnvironment ? "promote.schemas_pick_target" : "promote.schemas_unknown")),
                H.el("details", [("open", H.flag(!f.schemas.isEmpty || !pickable))], [
                    H.el("summary", text: l.t("promote.schemas_other")),
                    Components.field("schemas", label: l.t("promote.schemas_typed"), value: f.schemas, hint: l.t("promote.schemas_hint"),
                                     placeholder: "analytics_dev=analytics"),
                ]),
            ])
        }

        /// A select that lists the page again when it changes (ferry.js): the source's dashboards,
        /// the two environments' schemas.
        func envSelect(_ name: String, label: String, options: [(value: String, label: String)], selected: String, error: String?) -> HTMLNode {
            H.el("div", [("class", error == nil ? "field" : "field invalid")], [
                H.el("label", [("for", "f-\(name)")], text: label),
                H.el("select", [("id", "f-\(name)"), ("name", name), ("data-relist", "")], options.map { option in
                    H.el("option", [("value", option.value), ("selected", H.flag(option.value == selected))], text: option.label)
                }),
                error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
            ])
        }

        /// The picked dashboards, then the source's dashboards to pick from.
        func dashboards(_ source: Model.Environment?, _ l: Localizer) -> HTMLNode {
            let error = model.errors["dashboards"]
            return H.el("fieldset", [("class", error == nil ? "picker" : "picker invalid"), ("data-testid", "dashboard-picker")], [
                H.el("legend", text: l.t("promote.dashboards")),
                error.map { H.el("p", [("class", "field-error"), ("data-testid", "dashboards-error")], text: $0) } ?? H.group([]),
                source == nil ? H.el("p", [("class", "muted"), ("data-testid", "pick-source-first")], text: l.t("promote.pick_source_first")) : H.group([
                    model.picked.isEmpty ? H.group([]) : H.group([
                        H.el("h3", text: l.t("promote.picked", ["count": String(model.picked.count)])),
                        table(model.picked, checked: true, testID: "picked", l),
                    ]),
                    model.unknownPicks.isEmpty ? H.group([]) :
                        Components.notice("info", title: l.t("promote.unknown_picks", ["ids": model.unknownPicks.prefix(10).map(String.init).joined(separator: ", ")]),
                                          testID: "unknown-picks"),
                    model.form.tooManyPicks
                        ? Components.notice("info", title: l.t("promote.too_many_picks", ["max": String(Model.maxPicked)]), testID: "too-many-picks") : H.group([]),
                    model.form.invalidPicks.isEmpty ? H.group([]) :
                        Components.notice("info", title: l.t("promote.invalid_picks", ["values": model.form.invalidPicks.prefix(10).joined(separator: ", ")]),
                                          testID: "invalid-picks"),
                    H.el("div", [("class", "search")], [
                        H.el("label", [("for", "f-q"), ("class", "visually-hidden")], text: l.t("promote.search_dashboards")),
                        H.void("input", [("id", "f-q"), ("type", "search"), ("name", "q"), ("value", model.form.search),
                                         ("placeholder", l.t("promote.search_dashboards")), ("data-testid", "dashboard-search")]),
                        H.el("button", [("type", "submit"), ("name", "action"), ("value", "list"), ("class", "button"), ("formnovalidate", ""),
                                        ("data-testid", "search-dashboards")], text: l.t("dashboards.search")),
                    ]),
                    model.inventoryUnreadable
                        ? Components.notice("info", title: l.t("promote.inventory_unreadable", ["source": source?.name ?? ""]), testID: "inventory-unreadable")
                        : model.results.isEmpty
                        ? H.el("p", [("class", "empty"), ("data-testid", "no-results")], text: l.t("promote.none_match"))
                        : H.group([
                            table(model.results, checked: false, testID: "results", l),
                            H.el("p", [("class", "muted"), ("data-testid", "results-count")],
                                 text: l.t(model.resultsTotal > model.results.count ? "promote.results_more" : "promote.results_all",
                                           ["shown": String(model.results.count), "total": String(model.resultsTotal)])),
                        ]),
                ]),
            ])
        }

        func table(_ rows: [Model.Dashboard], checked: Bool, testID: String, _ l: Localizer) -> HTMLNode {
            H.el("table", [("class", "grid pick"), ("data-testid", testID)], [
                H.el("thead", [], [H.el("tr", [], [
                    H.el("th", [("class", "check")], [
                        checked ? H.el("span", [("class", "visually-hidden")], text: l.t("promote.picked_column"))
                            : H.el("label", [("class", "checkbox")], [
                                H.void("input", [("type", "checkbox"), ("data-select-all", ""), ("data-testid", "select-all-shown")]),
                                H.el("span", [("class", "visually-hidden")], text: l.t("hub.select_all_shown")),
                            ]),
                    ]),
                    H.el("th", text: l.t("dashboards.col.title")), H.el("th", text: l.t("dashboards.col.slug")),
                    H.el("th", text: l.t("dashboards.col.owners")), H.el("th", text: l.t("dashboards.col.changed")),
                ])]),
                H.el("tbody", [], rows.map { d in
                    H.el("tr", [("data-dashboard", String(d.id))], [
                        H.el("td", [("class", "check")], [
                            H.void("input", [("type", "checkbox"), ("id", "pick-\(testID)-\(d.id)"), ("name", "dashboards"), ("value", String(d.id)),
                                             ("checked", H.flag(checked))]),
                        ]),
                        H.el("td", [], [H.el("label", [("for", "pick-\(testID)-\(d.id)")], text: d.title)]),
                        H.el("td", [], [H.el("code", text: d.slug ?? "")]),
                        H.el("td", text: d.owners.joined(separator: ", ")),
                        H.el("td", [], [Components.time(d.changedOn, l)]),
                    ])
                }),
            ])
        }
    }
}
