import Foundation

/// The add / edit form of a health policy, shared by the policies page (add) and a policy's
/// page (edit), and the texts both pages show of a policy (its window, alert and dashboards).
///
/// The environment is picked first (a GET form that reloads the page with that environment's
/// dashboards from Ferry's inventory); the policy form then carries it. Everything is picked
/// by name: environments, dashboards (by title) and channels.
enum HealthPolicyForm {
    /// What the form holds: a stored policy's values, the defaults, or what was sent.
    struct Model: Equatable {
        var name = ""
        /// The environment the policy checks (nil: none could be resolved).
        var environment: UUID?
        /// Its name, shown beside the form.
        var environmentName = ""
        /// Superset ids of the dashboards picked (none: every dashboard).
        var dashboards: Set<Int> = []
        /// Only dashboards whose title contains this.
        var search = ""
        /// 0 (Sunday) to 6; none: every day.
        var weekdays: Set<Int> = [1, 2, 3, 4, 5]
        var windowStart = 6
        var windowEnd = 9
        var timeZone = "UTC"
        var everyMinutes = 15
        var alert = HealthAlert.fail
        var notifyOwners = false
        var ownerChannel: UUID?
        var channels: Set<UUID> = []
        var render = true
        var active = true
        /// The LLM provider that reviews each check (nil: no review).
        var llmProvider: UUID?
    }

    /// What the form offers.
    struct Options: Equatable {
        /// The environments the viewer may run checks on (`health:run`), by name.
        var environments: [Choice] = []
        /// The dashboards of the form's environment in Ferry's inventory, by title.
        var dashboards: [Dashboard] = []
        /// Every notification channel, by name.
        var channels: [Channel] = []
        /// `settings:admin`: the viewer may name channels (else they are shown, not changed).
        var canNameChannels = false
        var timeZones: [String] = HealthPolicyForm.commonTimeZones
        /// Every LLM provider, by name (only active ones can be picked; the policy's own stays
        /// shown while paused).
        var llmProviders: [Provider] = []
    }

    struct Provider: Equatable {
        var id: UUID
        var name: String
        var model: String
        var active: Bool
    }

    struct Choice: Equatable {
        var id: UUID
        var name: String
    }

    struct Dashboard: Equatable {
        var id: Int
        var title: String
    }

    struct Channel: Equatable {
        var id: UUID
        var name: String
        var kind: ChannelKind
        var active: Bool
    }

    /// The form with what went wrong.
    struct State: Equatable {
        var form = Model()
        var options = Options()
        /// Field name to message.
        var errors: [String: String] = [:]
        /// Why it wasn't saved, when no field is to blame.
        var formError: String?
    }

    /// The minutes between runs the form offers (each divides an hour or is whole hours).
    static let everyMinutes = [5, 10, 15, 20, 30, 60, 120, 240]

    /// The zones the form offers (the current value is added when it is another).
    static let commonTimeZones = [
        "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Kyiv", "Europe/Istanbul", "Europe/Kaliningrad", "Europe/Moscow",
        "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk",
        "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka", "Asia/Dubai", "Asia/Almaty", "Asia/Tashkent", "Asia/Kolkata", "Asia/Shanghai",
        "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "America/New_York", "America/Chicago", "America/Denver",
        "America/Los_Angeles",
    ]

    /// The weekdays in the order the form and the texts show them: Monday first.
    static let weekOrder = [1, 2, 3, 4, 5, 6, 0]

    // MARK: Texts of a policy

    /// "06:00".
    static func hour(_ h: Int) -> String {
        (h < 10 ? "0" : "") + "\(h):00"
    }

    /// A weekday's short name.
    static func day(_ d: Int, _ l: Localizer) -> String {
        l.t("health_policies.day.\(d)")
    }

    /// The days as "Mon–Fri", "Mon, Wed, Fri" or "every day" (none or all of them): runs of
    /// three or more days are shown as a range, Monday first.
    static func daysText(_ days: [Int], _ l: Localizer) -> String {
        let set = Set(days)
        if set.isEmpty || set.count == 7 { return l.t("health_policies.every_day") }
        var parts: [String] = []
        var run: [Int] = []
        func flush() {
            if run.count >= 3, let first = run.first, let last = run.last {
                parts.append(day(first, l) + "–" + day(last, l))
            } else {
                parts += run.map { day($0, l) }
            }
            run = []
        }
        for d in weekOrder {
            if set.contains(d) { run.append(d) } else { flush() }
        }
        flush()
        return parts.joined(separator: ", ")
    }

    /// "Mon–Fri 06:00–09:00 Europe/Berlin every 15 min".
    static func windowText(weekdays: [Int], start: Int, end: Int, zone: String, every: Int, _ l: Localizer) -> String {
        l.t("health_policies.window", ["days": daysText(weekdays, l), "start": hour(start), "end": hour(end), "zone": zone, "every": everyText(every, l)])
    }

    /// "15 min", "2 h".
    static func everyText(_ minutes: Int, _ l: Localizer) -> String {
        minutes >= 60 && minutes % 60 == 0 ? l.t("health_policies.hours", ["count": String(minutes / 60)]) : l.t("health_policies.minutes", ["count": String(minutes)])
    }

    static func alertText(_ alert: HealthAlert, _ l: Localizer) -> String {
        l.t("health_policies.alert.\(alert.rawValue)")
    }

    /// Which dashboards a policy checks: all, those picked, those whose title contains the
    /// search, or both.
    static func scopeText(dashboards: Int, search: String?, _ l: Localizer) -> String {
        var parts = [dashboards == 0 ? l.t("health_policies.scope_all") : l.t("health_policies.scope_picked", ["count": String(dashboards)])]
        if let search, !search.isEmpty { parts.append(l.t("health_policies.scope_search", ["search": search])) }
        return parts.joined(separator: ", ")
    }

    static func kindText(_ kind: ChannelKind, _ l: Localizer) -> String {
        l.t("channels.kind.\(kind.rawValue)")
    }

    // MARK: The form

    /// The environment picker (for `health:run` holders) and the policy form posting to
    /// `action`; `picker` is the page the picker reloads. Without `canSave` the form shows
    /// the policy and has no button.
    static func view(_ s: State, action: String, picker: String, canSave: Bool, _ l: Localizer) -> HTMLNode {
        let f = s.form
        let e = s.errors
        let hours = (0...23).map { (value: String($0), label: hour($0)) }
        let ends = (1...24).map { (value: String($0), label: hour($0)) }
        let zones = (s.options.timeZones.contains(f.timeZone) ? s.options.timeZones : [f.timeZone] + s.options.timeZones).map { (value: $0, label: $0) }
        let every = (everyMinutes.contains(f.everyMinutes) ? everyMinutes : [f.everyMinutes] + everyMinutes)
            .map { (value: String($0), label: l.t("health_policies.every_option", ["every": everyText($0, l)])) }
        let alerts = HealthAlert.allCases.map { (value: $0.rawValue, label: alertText($0, l)) }
        let notice: HTMLNode = s.formError.map { Components.notice("error", title: l.t("health_policies.not_saved"), detail: $0, testID: "form-error") }
            ?? (e.isEmpty ? H.group([]) : Components.notice("error", title: l.t("health_policies.not_saved"), detail: l.t("environment_form.fix_fields"),
                                                           testID: "form-error"))
        return H.group([
            canSave && !s.options.environments.isEmpty ? environmentPicker(s, picker: picker, l) : H.group([]),
            H.el("form", [("method", "post"), ("action", action), ("class", "stacked"), ("data-testid", "policy-form")], [
                notice,
                environmentField(s, canSave: canSave, l),
                Components.field("name", label: l.t("health_policies.name"), value: f.name, required: true, error: e["name"]),
                dashboardsField(s, l),
                Components.field("search", label: l.t("health_policies.search"), value: f.search, hint: l.t("health_policies.search_hint"),
                                 error: e["search"]),
                weekdaysField(s, l),
                Components.select("windowStart", label: l.t("health_policies.window_start"), options: hours, selected: String(f.windowStart),
                                  error: e["windowStart"]),
                Components.select("windowEnd", label: l.t("health_policies.window_end"), options: ends, selected: String(f.windowEnd),
                                  error: e["windowEnd"]),
                Components.select("timeZone", label: l.t("health_policies.time_zone"), options: zones, selected: f.timeZone, error: e["timeZone"]),
                Components.select("everyMinutes", label: l.t("health_policies.every"), options: every, selected: String(f.everyMinutes),
                                  error: e["everyMinutes"]),
                H.el("p", [("class", "muted")], text: l.t("health_policies.every_hint")),
                Components.select("alert", label: l.t("health_policies.alert"), options: alerts, selected: f.alert.rawValue, error: e["alert"]),
                channelsField(s, l),
                Components.checkbox("notifyOwners", label: l.t("health_policies.notify_owners"), checked: f.notifyOwners),
                ownerChannelField(s, l),
                Components.checkbox("render", label: l.t("health.render"), checked: f.render),
                llmProviderField(s, l),
                Components.checkbox("active", label: l.t("health_policies.active_label"), checked: f.active),
                canSave
                    ? H.el("div", [("class", "form-actions")], [
                        H.el("button", [("type", "submit"), ("class", "button primary"), ("data-testid", "save-policy")], text: l.t("environment_form.save")),
                        H.a(SiteURL.healthPoliciesPage.path, l.t("environment_form.cancel"), [("class", "button")]),
                    ])
                    : H.el("p", [("class", "muted"), ("data-testid", "policy-read-only")], text: l.t("health_policies.read_only")),
            ]),
        ])
    }

    /// Reloads the page with another environment's dashboards (submits when changed; the
    /// button without JavaScript).
    static func environmentPicker(_ s: State, picker: String, _ l: Localizer) -> HTMLNode {
        H.el("form", [("method", "get"), ("action", picker), ("class", "search"), ("data-testid", "policy-environment-form")], [
            H.el("label", [("for", "policy-env")], text: l.t("health_policies.environment")),
            H.el("select", [("id", "policy-env"), ("name", "environment"), ("data-autosubmit", ""), ("data-testid", "policy-environment")],
                 s.options.environments.map { e in
                     H.el("option", [("value", e.id.key), ("selected", H.flag(e.id == s.form.environment))], text: e.name)
                 }),
            H.el("button", [("type", "submit"), ("class", "button")], text: l.t("health_policies.pick_environment")),
        ])
    }

    /// The environment the form saves for (carried as a hidden field), or why there is none.
    static func environmentField(_ s: State, canSave: Bool, _ l: Localizer) -> HTMLNode {
        let error = s.errors["environment"]
        return H.el("div", [("class", error == nil ? "field" : "field invalid"), ("data-testid", "policy-environment-field")], [
            s.form.environment.map { H.void("input", [("type", "hidden"), ("name", "environment"), ("value", $0.key)]) } ?? H.group([]),
            H.el("p", [], [
                H.text(l.t("health_policies.environment") + ": "),
                s.form.environment == nil ? H.el("span", [("class", "muted")], text: l.t("health_policies.no_environment")) : H.el("strong", text: s.form.environmentName),
            ]),
            canSave && s.options.environments.count > 1 ? H.el("small", text: l.t("health_policies.environment_hint")) : H.group([]),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }

    /// A box per dashboard of the environment's inventory (and per dashboard picked that it no
    /// longer lists), folded away unless some are picked.
    static func dashboardsField(_ s: State, _ l: Localizer) -> HTMLNode {
        let f = s.form
        let error = s.errors["dashboards"]
        let listed = Set(s.options.dashboards.map(\.id))
        let gone = f.dashboards.subtracting(listed).sorted().map { Dashboard(id: $0, title: l.t("health_policies.dashboard_gone", ["id": String($0)])) }
        let all = s.options.dashboards + gone
        let summary = f.dashboards.isEmpty ? l.t("health_policies.dashboards_all") : l.t("health_policies.dashboards_picked", ["count": String(f.dashboards.count)])
        return H.el("div", [("class", error == nil ? "field" : "field invalid"), ("data-testid", "policy-dashboards")], [
            all.isEmpty
                ? H.group([
                    H.el("p", [], [H.text(l.t("health_policies.dashboards") + ": "), H.el("strong", text: summary)]),
                    H.el("small", [("data-testid", "policy-no-inventory")],
                         text: l.t("health_policies.no_inventory", ["environment": f.environmentName.isEmpty ? "-" : f.environmentName])),
                ])
                : H.el("details", [("class", "health-pick"), ("open", H.flag(!f.dashboards.isEmpty))], [
                    H.el("summary", text: l.t("health_policies.dashboards") + ": " + summary),
                    H.el("fieldset", [("class", "field")], [
                        H.el("legend", text: l.t("health_policies.dashboards_legend")),
                        H.el("small", text: l.t("health_policies.dashboards_hint")),
                    ] + all.map { d in
                        H.el("label", [("class", "checkbox")], [
                            H.void("input", [("type", "checkbox"), ("name", "dashboards"), ("value", String(d.id)),
                                             ("checked", H.flag(f.dashboards.contains(d.id))), ("data-testid", "policy-dashboard-\(d.id)")]),
                            H.text(" " + d.title + " "),
                            H.el("small", [("class", "muted")], text: l.t("health.dashboard_id", ["id": String(d.id)])),
                        ])
                    }),
                ]),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }

    /// A box per weekday, Monday first.
    static func weekdaysField(_ s: State, _ l: Localizer) -> HTMLNode {
        let error = s.errors["weekdays"]
        return H.el("fieldset", [("class", error == nil ? "field" : "field invalid"), ("data-testid", "policy-weekdays")], [
            H.el("legend", text: l.t("health_policies.weekdays")),
            H.el("div", [("class", "field checkbox")], weekOrder.map { d in
                H.el("label", [], [
                    H.void("input", [("type", "checkbox"), ("name", "weekdays"), ("value", String(d)), ("checked", H.flag(s.form.weekdays.contains(d)))]),
                    H.text(" " + day(d, l) + " "),
                ])
            }),
            H.el("small", text: l.t("health_policies.weekdays_hint")),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }

    /// A box per channel. Only `settings:admin` may change them: for others the boxes are
    /// disabled and the channels ticked travel as hidden fields, so a save keeps them.
    static func channelsField(_ s: State, _ l: Localizer) -> HTMLNode {
        let error = s.errors["channels"]
        let admin = s.options.canNameChannels
        return H.el("fieldset", [("class", error == nil ? "field" : "field invalid"), ("data-testid", "policy-channels")], [
            H.el("legend", text: l.t("health_policies.channels")),
            s.options.channels.isEmpty
                ? H.el("p", [("class", "muted")], text: l.t(admin ? "health_policies.no_channels_admin" : "health_policies.no_channels"))
                : H.group(s.options.channels.map { c in
                    H.el("div", [("class", "field checkbox")], [
                        H.void("input", [("id", "f-channel-\(c.id.key)"), ("type", "checkbox"), ("name", "channels"), ("value", c.id.key),
                                         ("checked", H.flag(s.form.channels.contains(c.id))), ("disabled", H.flag(!admin)),
                                         ("data-testid", "policy-channel")]),
                        H.el("label", [("for", "f-channel-\(c.id.key)")], text: c.name),
                        H.el("span", [("class", "badge")], text: kindText(c.kind, l)),
                        c.active ? H.group([]) : H.el("span", [("class", "badge")], text: l.t("channels.paused")),
                    ])
                }),
            admin ? H.group([]) : H.group(s.options.channels.filter { s.form.channels.contains($0.id) }.map { c in
                H.void("input", [("type", "hidden"), ("name", "channels"), ("value", c.id.key)])
            }),
            H.el("small", text: l.t(admin ? "health_policies.channels_hint" : "health_policies.channels_admin_only")),
            admin ? H.el("small", [], [H.a(SiteURL.channelsPage.path, l.t("health_policies.manage_channels"), [("data-testid", "policy-manage-channels")])]) : H.group([]),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }

    /// The LLM provider that reviews each check: "no LLM review" or an active provider (the
    /// policy's own also when paused). Not shown while there is no provider to pick.
    static func llmProviderField(_ s: State, _ l: Localizer) -> HTMLNode {
        let picked = s.form.llmProvider
        let offered = s.options.llmProviders.filter { $0.active || $0.id == picked }
        guard !offered.isEmpty || picked != nil else { return H.group([]) }
        let error = s.errors["llmProvider"]
        var options: [HTMLNode] = [H.el("option", [("value", ""), ("selected", H.flag(picked == nil))], text: l.t("health_policies.llm_none"))]
        for p in offered {
            let key = p.active ? "health_policies.llm_option" : "health_policies.llm_option_paused"
            options.append(H.el("option", [("value", p.id.key), ("selected", H.flag(p.id == picked))], text: l.t(key, ["name": p.name, "model": p.model])))
        }
        if let picked, !offered.contains(where: { $0.id == picked }) {
            // Deleted since (deletes are refused while a policy uses it): kept until changed.
            options.append(H.el("option", [("value", picked.key), ("selected", H.flag(true))], text: l.t("health_policies.llm_gone")))
        }
        // Only settings:admin chooses where screenshots go: for others the select is disabled
        // and the policy's provider travels as a hidden field, so a save keeps it.
        let admin = s.options.canNameChannels
        return H.el("div", [("class", error == nil ? "field" : "field invalid"), ("data-testid", "policy-llm")], [
            H.el("label", [("for", "f-llmProvider")], text: l.t("health_policies.llm_provider")),
            H.el("select", [("id", "f-llmProvider"), ("name", "llmProvider"), ("data-testid", "policy-llm-provider"), ("disabled", H.flag(!admin))], options),
            admin ? H.group([]) : picked.map { H.void("input", [("type", "hidden"), ("name", "llmProvider"), ("value", $0.key)]) } ?? H.group([]),
            H.el("small", text: l.t(admin ? "health_policies.llm_hint" : "health_policies.llm_admin_only")),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }

    /// The e-mail channel owners are mailed through (disabled, and carried as a hidden field,
    /// for those who may not name channels).
    static func ownerChannelField(_ s: State, _ l: Localizer) -> HTMLNode {
        let error = s.errors["ownerChannel"]
        let admin = s.options.canNameChannels
        let mail = s.options.channels.filter { $0.kind == .email }
        let picked = s.form.ownerChannel
        return H.el("div", [("class", error == nil ? "field" : "field invalid")], [
            H.el("label", [("for", "f-ownerChannel")], text: l.t("health_policies.owner_channel")),
            H.el("select", [("id", "f-ownerChannel"), ("name", "ownerChannel"), ("disabled", H.flag(!admin)), ("data-testid", "policy-owner-channel")],
                 [H.el("option", [("value", ""), ("selected", H.flag(picked == nil))], text: l.t("health_policies.owner_channel_none"))]
                    + mail.map { c in H.el("option", [("value", c.id.key), ("selected", H.flag(c.id == picked))], text: c.name) }),
            !admin ? picked.map { H.void("input", [("type", "hidden"), ("name", "ownerChannel"), ("value", $0.key)]) } ?? H.group([]) : H.group([]),
            H.el("small", text: l.t("health_policies.owner_channel_hint")),
            error.map { H.el("p", [("class", "field-error")], text: $0) } ?? H.group([]),
        ])
    }
}
