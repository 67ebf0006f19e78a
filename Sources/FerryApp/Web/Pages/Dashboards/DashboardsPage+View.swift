import Foundation

extension DashboardsPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("dashboards.title") }
        var nav: NavItem? { .dashboards }

        func content(_ l: Localizer) -> HTMLNode {
            H.group([
                H.el("h1", text: l.t("dashboards.title")),
                HubTabs.view(current: .dashboards, l),
                searchForm(l),
                syncStatus(l),
                model.environments.isEmpty
                    ? H.el("p", [("class", "empty")], [
                        H.text(l.t("dashboards.no_environments") + " "),
                        model.canAddEnvironment ? H.a(SiteURL.environmentNew.path, l.t("environments.add")) : H.group([]),
                    ])
                    : results(l),
            ])
        }

        func searchForm(_ l: Localizer) -> HTMLNode {
            let options = [(value: "", label: l.t("dashboards.all_environments"))] + model.environments.map { (value: $0.name, label: $0.name) }
            return H.el("form", [("method", "get"), ("action", SiteURL.dashboards.path), ("class", "search"), ("role", "search"), ("data-testid", "search-form")], [
                H.el("label", [("for", "q"), ("class", "visually-hidden")], text: l.t("dashboards.search")),
                H.void("input", [("id", "q"), ("type", "search"), ("name", "search"), ("value", model.search), ("placeholder", l.t("dashboards.search_placeholder")), ("data-testid", "search")]),
                H.el("label", [("for", "owner"), ("class", "visually-hidden")], text: l.t("dashboards.owner")),
                H.void("input", [("id", "owner"), ("type", "search"), ("name", "owner"), ("value", model.owner), ("placeholder", l.t("dashboards.owner"))]),
                H.el("label", [("for", "env"), ("class", "visually-hidden")], text: l.t("dashboards.environment")),
                H.el("select", [("id", "env"), ("name", "environment"), ("data-autosubmit", ""), ("data-testid", "environment-switcher")], options.map { o in
                    H.el("option", [("value", o.value), ("selected", H.flag(o.value == model.environment))], text: o.label)
                }),
                mineBox(l),
                H.el("label", [("for", "git"), ("class", "visually-hidden")], text: l.t("dashboards.git_filter")),
                H.el("select", [("id", "git"), ("name", "git"), ("data-autosubmit", ""), ("data-testid", "git-filter")], gitOptions(l).map { o in
                    H.el("option", [("value", o.value), ("selected", H.flag(o.value == model.git))], text: o.label)
                }),
                H.el("label", [("for", "health"), ("class", "visually-hidden")], text: l.t("dashboards.health_filter")),
                H.el("select", [("id", "health"), ("name", "health"), ("data-autosubmit", ""), ("data-testid", "health-filter")], healthOptions(l).map { o in
                    H.el("option", [("value", o.value), ("selected", H.flag(o.value == model.health))], text: o.label)
                }),
                H.el("button", [("type", "submit"), ("class", "button primary")], text: l.t("dashboards.search")),
            ])
        }

        /// "health: any / PASS / WARN / FAIL / never checked".
        func healthOptions(_ l: Localizer) -> [(value: String, label: String)] {
            [(value: "", label: l.t("dashboards.health_any"))]
                + HealthStatus.allCases.map { (value: $0.rawValue, label: l.t("dashboards.health_is", ["status": HealthComponents.label($0, l)])) }
                + [(value: "unchecked", label: l.t("dashboards.health_is", ["status": l.t("dashboards.health_unchecked")]))]
        }

        /// "git: any / in sync / changed / never committed".
        func gitOptions(_ l: Localizer) -> [(value: String, label: String)] {
            [(value: "", label: l.t("dashboards.git_any"))] + GitDriftStatus.allCases.map { status in
                (value: status.rawValue, label: l.t("dashboards.git_is", ["status": GitComponents.driftLabel(status.rawValue, l)]))
            }
        }

        /// "Only my dashboards": matches the owners' Superset usernames against the profile's.
        func mineBox(_ l: Localizer) -> HTMLNode {
            guard let username = model.supersetUsername, !username.isEmpty else {
                return H.el("small", [("class", "muted"), ("data-testid", "mine-unavailable")], [
                    H.text(l.t("dashboards.mine_needs_username") + " "), H.a(SiteURL.profile.path, l.t("dashboards.mine_link")),
                ])
            }
            return H.el("label", [("class", "checkbox"), ("title", l.t("dashboards.mine_hint", ["username": username]))], [
                H.void("input", [("type", "checkbox"), ("name", "mine"), ("value", "true"), ("checked", H.flag(model.mine)),
                                 ("data-autosubmit", ""), ("data-testid", "mine")]),
                H.text(" " + l.t("dashboards.mine")),
            ])
        }

        func syncStatus(_ l: Localizer) -> HTMLNode {
            H.el("ul", [("class", "sync-status"), ("data-testid", "sync-status")], model.environments.map { env in
                H.el("li", [], [
                    H.el("span", [("class", "stage stage-\(env.stage)")], text: env.name),
                    H.text(" " + l.t("dashboards.synced") + " "),
                    Components.time(env.lastSyncAt, l),
                    env.syncStatus == "failed" ? H.el("span", [("class", "badge error"), ("title", env.syncError.map(l.failureText))], text: l.t("sync.failed")) : H.group([]),
                ])
            })
        }

        func results(_ l: Localizer) -> HTMLNode {
            let bulk = model.selectedEnvironment.flatMap { env in
                model.promotable.contains(env.id) || model.checkable.contains(env.id) || model.backupable.contains(env.id) ? env : nil
            }
            let table = H.el("table", [("class", "grid"), ("id", "dashboards"), ("data-testid", "dashboards")], [
                H.el("thead", [], [H.el("tr", [], [
                    bulk == nil ? H.group([]) : H.el("th", [("class", "check")], [
                        H.el("label", [("class", "checkbox")], [
                            H.void("input", [("type", "checkbox"), ("data-select-all", ""), ("data-testid", "select-all-shown")]),
                            H.el("span", [("class", "visually-hidden")], text: l.t("hub.select_all_shown")),
                        ]),
                    ]),
                    H.el("th", text: l.t("dashboards.col.title")), H.el("th", text: l.t("dashboards.col.environment")),
                    H.el("th", text: l.t("dashboards.col.slug")), H.el("th", text: l.t("dashboards.col.owners")),
                    H.el("th", text: l.t("dashboards.col.changed")), H.el("th", text: l.t("dashboards.col.git")),
                    H.el("th", text: l.t("dashboards.col.health")), H.el("th", [], [H.el("span", [("class", "visually-hidden")], text: l.t("hub.actions"))]),
                ])]),
                H.el("tbody", [], model.items.map { item in
                    H.el("tr", [("data-uuid", item.uuid), ("data-dashboard", String(item.id))], [
                        bulk == nil ? H.group([]) : H.el("td", [("class", "check")], [
                            H.void("input", [("type", "checkbox"), ("name", "dashboards"), ("value", String(item.id)),
                                             ("aria-label", l.t("hub.select_row", ["title": item.name])), ("data-testid", "select-row")]),
                        ]),
                        H.el("td", [], [Model.pagePath(item).map { H.a($0, item.name, [("data-testid", "dashboard-link")]) }
                            ?? H.a(item.url, item.name, [("rel", "noopener")])]),
                        H.el("td", text: item.environment),
                        H.el("td", [], [H.el("code", text: item.detail ?? "")]),
                        H.el("td", text: item.owners.joined(separator: ", ")),
                        H.el("td", [], [Components.time(item.changedOn, l)]),
                        H.el("td", [], [gitBadge(item, l)]),
                        H.el("td", [], [healthBadge(item, l)]),
                        H.el("td", [("class", "row-actions")], [rowActions(item, l)]),
                    ])
                }),
            ])
            return H.group([
                H.el("p", [("class", "muted"), ("data-testid", "result-count")], text: l.t("dashboards.count", ["count": String(model.total)])),
                model.items.isEmpty ? H.el("p", [("class", "empty")], text: l.t("dashboards.none")) : H.group([
                    bulk.map { env in
                        H.el("form", [("method", "post"), ("action", SiteURL.promotePage.path), ("data-testid", "bulk-form")], [
                            H.void("input", [("type", "hidden"), ("name", "source"), ("value", env.id.uuidString.lowercased())]),
                            H.void("input", [("type", "hidden"), ("name", "environment"), ("value", env.id.uuidString.lowercased())]),
                            H.void("input", [("type", "hidden"), ("name", "selection"), ("value", "required")]),
                            bulkBar(env, l),
                            table,
                        ])
                    } ?? H.group([
                        model.environments.count > 1 && !(model.promotable.isEmpty && model.checkable.isEmpty && model.backupable.isEmpty)
                            ? H.el("p", [("class", "muted"), ("data-testid", "bulk-hint")], text: l.t("hub.pick_environment_for_bulk")) : H.group([]),
                        table,
                    ]),
                ]),
                pager(l),
            ])
        }

        /// What can be done with the ticked dashboards of `env`: each button one task (or one
        /// plan) for the whole selection.
        func bulkBar(_ env: InventoryEnvironmentDTO, _ l: Localizer) -> HTMLNode {
            H.el("div", [("class", "bulk-bar"), ("role", "group"), ("aria-label", l.t("hub.bulk_label")), ("data-testid", "bulk-bar")], [
                H.el("span", [], [H.el("strong", [("data-bulk-count", "dashboards")], text: "0"), H.text(" " + l.t("hub.selected"))]),
                model.promotable.contains(env.id)
                    ? H.el("button", [("type", "submit"), ("name", "action"), ("value", "list"), ("class", "button"), ("formaction", SiteURL.promotePage.path),
                                      ("data-testid", "bulk-promote")], text: l.t("hub.promote_selected")) : H.group([]),
                model.checkable.contains(env.id)
                    ? H.el("button", [("type", "submit"), ("class", "button"), ("formaction", SiteURL.healthRunPage.path),
                                      ("data-testid", "bulk-check")], text: l.t("hub.check_selected")) : H.group([]),
                model.backupable.contains(env.id)
                    ? H.el("button", [("type", "submit"), ("class", "button"), ("formaction", SiteURL.backupRunPage(.value(env.id)).path),
                                      ("formnovalidate", ""), ("title", l.t("hub.backup_environment_hint")), ("data-testid", "bulk-backup")],
                           text: l.t("hub.backup_environment", ["environment": env.name])) : H.group([]),
            ])
        }

        /// The dashboard's latest check as a badge linking to it, or "never checked".
        func healthBadge(_ item: InventoryItemDTO, _ l: Localizer) -> HTMLNode {
            guard let run = model.latestCheck[Model.checkKey(item)] else {
                return H.el("span", [("class", "muted"), ("data-testid", "health-none")], text: l.t("dashboards.health_unchecked"))
            }
            return H.el("a", [("href", HealthComponents.checkPath(run.id)), ("class", "badge-link")], [HealthComponents.badge(run.status, l)])
        }

        /// The actions on one dashboard the viewer may take.
        func rowActions(_ item: InventoryItemDTO, _ l: Localizer) -> HTMLNode {
            H.group([
                model.promotable.contains(item.environmentId)
                    ? H.a(SiteURL.promotePage.path(query: ["source": item.environmentId.uuidString.lowercased(), "dashboards": String(item.id)]),
                          l.t("hub.promote_one"), [("class", "button small"), ("data-testid", "row-promote"),
                                                   ("aria-label", l.t("hub.promote_row", ["title": item.name]))])
                    : H.group([]),
                H.a(item.url, l.t("dashboard.open_in_superset"), [("class", "button small"), ("rel", "noopener"), ("data-testid", "row-open")]),
            ])
        }

        /// The dashboard's drift, linking to its history once it was committed.
        func gitBadge(_ item: InventoryItemDTO, _ l: Localizer) -> HTMLNode {
            let status = Model.gitStatus(item, in: model.gitDrift)
            let link: String? = status == .uncommitted ? nil : item.uuid.map { GitComponents.historyPath(environment: item.environmentId, dashboard: $0.lowercased()) }
            return GitComponents.drift(status.rawValue, link: link, l)
        }

        func pager(_ l: Localizer) -> HTMLNode {
            Components.pager(page: model.page, pageCount: model.pageCount, l) { page in
                SiteURL.dashboards.path(query: ["search": model.search, "owner": model.owner, "environment": model.environment,
                                                 "mine": model.mine ? "true" : "", "git": model.git, "health": model.health,
                                                 "page": String(page)])
            }
        }
    }
}
