import Fluent
import Foundation
import SupersetKit
import Testing
import Vapor

@testable import FerryApp

/// Hand-built models for the health policies' and notification channels' views.
enum HealthPolicyPageFixtures {
    static let fixed = ViewSnapshotTests.fixed
    static let devID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e1")!
    static let prodID = UUID(uuidString: "00000000-0000-4000-8000-0000000000e2")!
    static let morningID = UUID(uuidString: "00000000-0000-4000-8000-0000000000d1")!
    static let nightlyID = UUID(uuidString: "00000000-0000-4000-8000-0000000000d2")!
    static let mailID = UUID(uuidString: "00000000-0000-4000-8000-0000000000a1")!
    static let slackID = UUID(uuidString: "00000000-0000-4000-8000-0000000000a2")!
    static let telegramID = UUID(uuidString: "00000000-0000-4000-8000-0000000000a3")!
    /// A name that would break out of text and attributes if it weren't escaped.
    static let hostile = "Sales <script>alert(1)</script>\" onmouseover=\"alert(1)"

    static func policy(_ id: UUID, name: String, environment: UUID, environmentName: String, dashboards: [Int] = [], search: String? = nil,
                       weekdays: [Int], start: Int, end: Int, zone: String, every: Int, alert: HealthAlert, notifyOwners: Bool = false,
                       ownerChannel: UUID? = nil, channels: [UUID] = [], active: Bool = true) -> HealthPolicyDTO {
        HealthPolicyDTO(id: id, name: name, environmentId: environment, environment: environmentName, dashboards: dashboards, search: search,
                        weekdays: weekdays, windowStart: start, windowEnd: end, timeZone: zone, everyMinutes: every, alert: alert,
                        notifyOwners: notifyOwners, ownerChannel: ownerChannel, channels: channels, render: true, active: active, scheduleId: nil,
                        cron: HealthPolicyService.cron(start: start, end: end, every: every, weekdays: weekdays))
    }

    static var options: HealthPolicyForm.Options {
        HealthPolicyForm.Options(
            environments: [.init(id: devID, name: "dev"), .init(id: prodID, name: "prod")],
            dashboards: [.init(id: 12, title: "Overview"), .init(id: 9, title: "Revenue"), .init(id: 7, title: hostile)],
            channels: [
                .init(id: mailID, name: "ops mail", kind: .email, active: true),
                .init(id: slackID, name: "#alerts <b>", kind: .slack, active: true),
                .init(id: telegramID, name: "on-call bot", kind: .telegram, active: false),
            ],
            canNameChannels: true)
    }

    /// The list: a policy with channels and owners, a paused nightly one read-only; the add
    /// form as refused (window end before its start).
    static var listModel: HealthPoliciesPage.Model {
        var editor = HealthPolicyForm.State(options: options)
        editor.form = HealthPolicyForm.Model(
            name: "Evening <check>", environment: devID, environmentName: "dev", dashboards: [9, 44], search: "sales", weekdays: [1, 3, 5],
            windowStart: 20, windowEnd: 18, timeZone: "America/Argentina/Ushuaia", everyMinutes: 30, alert: .warn, notifyOwners: true,
            ownerChannel: mailID, channels: [slackID], render: false, active: true)
        editor.errors = ["windowEnd": "an hour 1-24 after the start"]
        return HealthPoliciesPage.Model(
            rows: [
                .init(policy: policy(morningID, name: hostile, environment: devID, environmentName: "dev", dashboards: [7, 9], search: "sales",
                                     weekdays: [1, 2, 3, 4, 5], start: 6, end: 9, zone: "Europe/Berlin", every: 15, alert: .fail, notifyOwners: true,
                                     ownerChannel: mailID, channels: [mailID, slackID]),
                      channels: ["#alerts <b>", "ops mail"], ownerChannel: "ops mail", canRun: true),
                .init(policy: policy(nightlyID, name: "Nightly", environment: prodID, environmentName: "prod", weekdays: [], start: 0, end: 4,
                                     zone: "UTC", every: 120, alert: .always, active: false),
                      channels: [], ownerChannel: nil, canRun: false),
            ],
            editor: editor, flash: "Policy saved.", error: nil)
    }

    /// A policy's form as someone without settings:admin sees it: channels shown, not changed.
    static var policyModel: HealthPolicyPage.Model {
        var o = options
        o.canNameChannels = false
        let form = HealthPolicyForm.Model(
            name: hostile, environment: devID, environmentName: "dev", dashboards: [7], search: "", weekdays: [1, 2, 3, 4, 5], windowStart: 6,
            windowEnd: 9, timeZone: "Europe/Berlin", everyMinutes: 15, alert: .fail, notifyOwners: true, ownerChannel: mailID,
            channels: [mailID, slackID], render: true, active: true)
        return HealthPolicyPage.Model(id: morningID, name: hostile, editor: HealthPolicyForm.State(form: form, options: o), canSave: true)
    }

    static var channels: [ChannelDTO] {
        [
            ChannelDTO(id: slackID, name: "#alerts <b>", kind: .slack, active: true, language: "en", host: nil, port: nil, security: nil, username: nil,
                       from: nil, to: nil, verifyTLS: nil, chatID: nil, baseURL: nil, hasSecret: true, updatedAt: fixed),
            ChannelDTO(id: telegramID, name: "on-call bot", kind: .telegram, active: false, language: "ru", host: nil, port: nil, security: nil,
                       username: nil, from: nil, to: nil, verifyTLS: nil, chatID: "-1001234567890", baseURL: "https://api.telegram.org", hasSecret: true,
                       updatedAt: fixed.addingTimeInterval(60)),
            ChannelDTO(id: mailID, name: "ops mail", kind: .email, active: true, language: "en", host: "smtp.example.com", port: 587,
                       security: .starttls, username: "ferry", from: "ferry@example.com", to: ["ops@example.com", "oncall@example.com"], verifyTLS: true,
                       chatID: nil, baseURL: nil, hasSecret: false, updatedAt: fixed.addingTimeInterval(120)),
        ]
    }

    /// The channels, and the add form refused: a Telegram channel with a bad token and no chat.
    static var channelsModel: ChannelsPage.Model {
        var form = ChannelForm.Model()
        form.name = "tg <i>"
        form.kind = .telegram
        form.language = "ru"
        form.baseURL = "https://api.telegram.org"
        let editor = ChannelForm.State(form: form, errors: ["botToken": "the bot token BotFather gave, e.g. 123456:ABC-DEF...",
                                                            "chatID": "a chat id (e.g. -1001234567890) or @channelname"])
        return ChannelsPage.Model(channels: channels, editor: editor, flash: nil, error: "Policy 'Morning' sends through this channel; change it first.")
    }

    /// The e-mail channel's form: its password stored, never shown.
    static var channelModel: ChannelPage.Model {
        let dto = channels[2]
        var withSecret = dto
        withSecret.hasSecret = true
        return ChannelPage.Model(channel: withSecret, editor: ChannelForm.State(form: ChannelForm.Model(withSecret)), usedBy: ["Morning", "Nightly"])
    }
}

extension ViewSnapshotTests {
    @Test func healthPoliciesList() throws {
        let f = HealthPolicyPageFixtures.self
        let model = f.listModel
        for lang in ["en", "ru"] {
            let html = Layout.render(HealthPoliciesPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/health/policies"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\"") && !html.contains("<b>") && !html.contains("<check>"))
            #expect(html.contains(#"href="/health" class="active""#), "the health navigation item is current")
            try assertSnapshot(html, named: "health-policies-\(lang)")
        }
        let ru = Layout.render(HealthPoliciesPage.View(model: model, localizer: Localizer(language: "ru")), context: context("ru", path: "/health/policies"))
        #expect(ru.contains("Пн–Пт 06:00–09:00 Europe/Berlin, раз в 15 мин") && ru.contains("Ежедневно 00:00–04:00 UTC, раз в 2 ч"))

        let html = Layout.render(HealthPoliciesPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/health/policies"))
        // The table: both policies, by name; the window, alert, channels and state of each.
        #expect(occurrences(#"data-testid="policy-row""#, in: html) == 2)
        #expect(html.contains("<td data-testid=\"policy-window\">Mon–Fri 06:00–09:00 Europe/Berlin every 15 min</td>"))
        #expect(html.contains("<td data-testid=\"policy-window\">Every day 00:00–04:00 UTC every 2 h</td>"))
        #expect(html.contains(">On FAIL<") && html.contains(">After every run<"))
        #expect(html.contains("#alerts &lt;b&gt;, ops mail, owners via ops mail"))
        #expect(html.contains(#"<td class="muted" data-testid="policy-channels">none</td>"#))
        #expect(html.contains(#"data-active="true">active<"#) && html.contains(#"data-active="false">paused<"#))
        #expect(html.contains("2 dashboards picked, titles containing “sales”") && html.contains(">all dashboards<"))
        // Actions for health:run only: edit, run now, delete (asking first).
        #expect(occurrences(#"data-testid="policy-run""#, in: html) == 1 && occurrences(#"data-testid="policy-delete""#, in: html) == 1)
        #expect(html.contains("action=\"/health/policies/\(f.morningID.key)/run\""))
        #expect(html.contains("action=\"/health/policies/\(f.morningID.key)/delete\" class=\"inline\" data-confirm=\"Delete the policy"))
        #expect(html.contains("href=\"/health/policies/\(f.nightlyID.key)\" data-testid=\"policy-link\">Nightly<"))
        #expect(!html.contains("/health/policies/\(f.nightlyID.key)/run"))
        #expect(html.contains(#"data-testid="flash""#))

        // The add form, as refused: the environment picker, the values sent, the error by its field.
        #expect(html.contains(#"data-testid="policy-environment-form""#) && html.contains("<option value=\"\(f.devID.key)\" selected>dev</option>"))
        #expect(html.contains("<input type=\"hidden\" name=\"environment\" value=\"\(f.devID.key)\"/>"))
        #expect(html.contains(#"data-testid="form-error""#) && html.contains(#"<p class="field-error">an hour 1-24 after the start</p>"#))
        #expect(html.contains(#"value="Evening &lt;check&gt;""#) && html.contains(#"value="sales""#))
        #expect(html.contains(#"<option value="20" selected>20:00</option>"#) && html.contains(#"<option value="18" selected>18:00</option>"#))
        #expect(html.contains(#"<option value="America/Argentina/Ushuaia" selected>"#), "a zone outside the short list is kept")
        #expect(html.contains(#"<option value="30" selected>every 30 min</option>"#) && html.contains(#"<option value="120">every 2 h</option>"#))
        #expect(html.contains(#"<option value="warn" selected>On WARN or FAIL</option>"#))
        #expect(html.contains(#"name="weekdays" value="1" checked"#) && html.contains(#"name="weekdays" value="2"/>"#))
        // Dashboards by title, those picked ticked; one picked that the inventory no longer lists.
        #expect(html.contains(#"<details class="health-pick" open>"#))
        #expect(html.contains(#"name="dashboards" value="9" checked"#) && html.contains(#"name="dashboards" value="12" data-testid"#))
        #expect(html.contains(#"name="dashboards" value="44" checked"#) && html.contains("Dashboard 44 (no longer in the inventory)"))
        // Channels by name, changeable (settings:admin); owners through an e-mail channel only.
        #expect(html.contains("value=\"\(f.slackID.key)\" checked data-testid=\"policy-channel\""))
        #expect(!html.contains("disabled"))
        #expect(html.contains("<option value=\"\(f.mailID.key)\" selected>ops mail</option>"))
        #expect(!html.contains("<option value=\"\(f.slackID.key)\""), "only e-mail channels mail owners")
        #expect(html.contains(#"<input id="f-notifyOwners" type="checkbox" name="notifyOwners" value="true" checked/>"#))
        #expect(html.contains(#"<input id="f-render" type="checkbox" name="render" value="true"/>"#))
        #expect(html.contains(#"name="_csrf" value="token""#))

        // A reader who may run checks nowhere: the table, no form.
        var reader = model
        reader.editor.options.environments = []
        let read = Layout.render(HealthPoliciesPage.View(model: reader, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(!read.contains(#"data-testid="policy-form""#) && read.contains(#"data-testid="policies""#))
        let none = Layout.render(HealthPoliciesPage.View(model: .init(), localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(none.contains(#"data-testid="policies-none""#))
    }

    @Test func aHealthPolicyForSomeoneWhoCantNameChannels() throws {
        let f = HealthPolicyPageFixtures.self
        let model = f.policyModel
        for lang in ["en", "ru"] {
            let html = Layout.render(HealthPolicyPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/health/policies"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<script>alert") && !html.contains("onmouseover=\"alert(1)\""))
            try assertSnapshot(html, named: "health-policy-\(lang)")
        }
        let html = Layout.render(HealthPolicyPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        let page = "/health/policies/\(f.morningID.key)"
        #expect(html.contains("<form method=\"post\" action=\"\(page)\" class=\"stacked\" data-testid=\"policy-form\">"))
        #expect(html.contains("<form method=\"get\" action=\"\(page)\""), "the environment picker reloads this page")
        // Channels shown, disabled, and those ticked carried as hidden fields so a save keeps them.
        #expect(occurrences(#"data-testid="policy-channel""#, in: html) == 3 && occurrences("checked disabled", in: html) == 2)
        #expect(html.contains("<input type=\"hidden\" name=\"channels\" value=\"\(f.mailID.key)\"/>"))
        #expect(html.contains("<input type=\"hidden\" name=\"channels\" value=\"\(f.slackID.key)\"/>"))
        #expect(!html.contains("<input type=\"hidden\" name=\"channels\" value=\"\(f.telegramID.key)\"/>"))
        #expect(html.contains(#"<select id="f-ownerChannel" name="ownerChannel" disabled"#))
        #expect(html.contains("<input type=\"hidden\" name=\"ownerChannel\" value=\"\(f.mailID.key)\"/>"))
        #expect(html.contains("Only an administrator (settings:admin) can change where a policy&#39;s alerts go.")
                || html.contains("Only an administrator (settings:admin) can change where a policy's alerts go."))
        #expect(!html.contains(#"data-testid="policy-manage-channels""#))
        #expect(html.contains(#"<details class="health-pick" open>"#) && html.contains(#"name="dashboards" value="7" checked"#))
        #expect(html.contains(#"data-testid="save-policy""#))

        // Someone who may only read it: no picker, no button.
        var reader = model
        reader.canSave = false
        let read = Layout.render(HealthPolicyPage.View(model: reader, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(!read.contains(#"data-testid="save-policy""#) && read.contains(#"data-testid="policy-read-only""#))
        #expect(!read.contains(#"data-testid="policy-environment-form""#))
    }

    @Test func notificationChannels() throws {
        let f = HealthPolicyPageFixtures.self
        let model = f.channelsModel
        for lang in ["en", "ru"] {
            let html = Layout.render(ChannelsPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/admin/channels"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            #expect(!html.contains("<b>") && !html.contains("<i>"))
            #expect(html.contains(#"href="/admin/channels" class="active""#), "the channels navigation item is current")
            try assertSnapshot(html, named: "channels-\(lang)")
        }
        let html = Layout.render(ChannelsPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/admin/channels"))
        #expect(occurrences(#"data-testid="channel-row""#, in: html) == 3)
        #expect(html.contains(#"<span class="badge" data-kind="telegram">Telegram</span>"#))
        #expect(occurrences(#"<td data-testid="channel-secret">yes</td>"#, in: html) == 2 && html.contains(#"<td data-testid="channel-secret">no</td>"#))
        #expect(html.contains("action=\"/admin/channels/\(f.slackID.key)/delete\" class=\"inline\" data-confirm=\"Delete the channel"))
        #expect(html.contains(#"data-testid="channel-error""#) && html.contains("sends through this channel"))
        // The add form: the kind switch, every kind's section (ferry.js shows the one picked).
        #expect(html.contains(#"<select id="f-kind" name="kind" data-kind-switch"#) && html.contains(#"<option value="telegram" selected>Telegram</option>"#))
        for kind in ChannelKind.allCases { #expect(html.contains("data-kind-section=\"\(kind.rawValue)\"")) }
        #expect(html.range(of: #"data-kind-section="[a-z]+"[^>]*\shidden"#, options: .regularExpression) == nil, "without JavaScript every section shows")
        // Secrets: password fields, never filled in; the errors by their fields; what was typed kept.
        #expect(html.contains(#"<input id="f-botToken" name="botToken" type="password" autocomplete="off" aria-invalid="true"/>"#))
        #expect(html.contains(#"<input id="f-webhookURL" name="webhookURL" type="password" autocomplete="off"/>"#))
        #expect(html.contains(#"<input id="f-password" name="password" type="password" autocomplete="new-password"/>"#))
        #expect(html.contains(#"<p class="field-error">a chat id (e.g. -1001234567890) or @channelname</p>"#))
        #expect(html.contains(#"value="tg &lt;i&gt;""#) && html.contains(#"<option value="ru" selected>Русский</option>"#))
        #expect(html.contains(#"data-testid="form-error""#))
    }

    @Test func aNotificationChannel() throws {
        let f = HealthPolicyPageFixtures.self
        let model = f.channelModel
        for lang in ["en", "ru"] {
            let html = Layout.render(ChannelPage.View(model: model, localizer: Localizer(language: lang)), context: context(lang, path: "/admin/channels"))
            #expect(cspViolations(html).isEmpty, "\(cspViolations(html))")
            try assertSnapshot(html, named: "channel-\(lang)")
        }
        let html = Layout.render(ChannelPage.View(model: model, localizer: Localizer(language: "en")), context: context("en", path: "/"))
        #expect(html.contains("<form method=\"post\" action=\"/admin/channels/\(f.mailID.key)\" class=\"stacked\" data-testid=\"channel-form\">"))
        // Its kind fixed: only its own section, no switch.
        #expect(html.contains(#"<input type="hidden" name="kind" value="email"/>"#) && !html.contains("data-kind-switch"))
        #expect(html.contains(#"data-kind-section="email""#) && !html.contains(#"data-kind-section="slack""#) && !html.contains(#"data-kind-section="telegram""#))
        #expect(html.contains(#"value="smtp.example.com""#) && html.contains(#"value="587""#) && html.contains(#"value="ops@example.com, oncall@example.com""#))
        #expect(html.contains(#"<option value="starttls" selected>STARTTLS</option>"#))
        #expect(html.contains(#"<input id="f-password" name="password" type="password" autocomplete="new-password"/>"#))
        #expect(html.contains("A password is stored. Leave this empty to keep it."))
        #expect(html.contains("Policies sending through it: Morning, Nightly"))
    }

    /// Keys built from values have their text in every language.
    @Test func everyPolicyAndChannelValueIsNamedInEveryLanguage() throws {
        for lang in Localizer.languages {
            let table = try #require(Catalogue.shared.tables[lang])
            for alert in HealthAlert.allCases { #expect(table["health_policies.alert.\(alert.rawValue)"] != nil, "\(lang): \(alert)") }
            for day in 0...6 { #expect(table["health_policies.day.\(day)"] != nil, "\(lang): day \(day)") }
            for kind in ChannelKind.allCases {
                #expect(table["channels.kind.\(kind.rawValue)"] != nil && table["channels.section.\(kind.rawValue)"] != nil, "\(lang): \(kind)")
            }
            for security in SMTPSecurity.allCases { #expect(table["channels.security.\(security.rawValue)"] != nil, "\(lang): \(security)") }
            for done in ["created", "saved", "deleted"] {
                #expect(table["health_policies.flash.\(done)"] != nil && table["channels.flash.\(done)"] != nil, "\(lang): \(done)")
            }
            for key in ["health_policies.active", "health_policies.paused", "health_policies.channels_hint", "health_policies.no_channels",
                        "health_policies.no_channels_admin", "channels.active", "channels.paused", "channels.secret_yes", "channels.secret_no",
                        "channels.password_hint", "channels.password_kept", "channels.webhook_hint", "channels.webhook_kept", "channels.bot_token_hint",
                        "channels.bot_token_kept", "nav.channels", "health.policies"] {
                #expect(table[key] != nil, "\(lang): \(key)")
            }
        }
        let l = Localizer(language: "en")
        #expect(HealthPolicyForm.daysText([1, 2, 3, 4, 5], l) == "Mon–Fri")
        #expect(HealthPolicyForm.daysText([6, 0], l) == "Sat, Sun")
        #expect(HealthPolicyForm.daysText([1, 3, 4, 5, 0], l) == "Mon, Wed–Fri, Sun")
        #expect(HealthPolicyForm.daysText([], l) == "Every day" && HealthPolicyForm.daysText(Array(0...6), l) == "Every day")
    }
}

/// The policies' and channels' pages through HTTP: channels and a policy made with the forms,
/// listed, a bad policy refused with its fields, the channels rule for someone without
/// settings:admin, run now, and deletes.
@Suite struct HealthPolicyPagesTests {
    static func occurrences(_ needle: String, in html: String) -> Int { html.components(separatedBy: needle).count - 1 }

    static func channel(_ name: String, on db: any Database) async throws -> NotificationChannelModel {
        try #require(try await NotificationChannelModel.query(on: db).filter(\.$name == name).first())
    }

    @Test(arguments: Store.available)
    func managingChannelsAndPoliciesThroughTheForms(store: Store) async throws {
        try await withFerry(store) { t in
            let env = try await t.createEnvironment(sample("dev"))
            await t.app.syncCoordinator.wait(env.id)
            var html = HTTPHeaders()
            html.replaceOrAdd(name: .accept, value: "text/html")

            // Channels: an e-mail one and a Slack one; their secrets never come back.
            let empty = try await t.request(.GET, "/admin/channels", headers: html)
            #expect(empty.status == .ok && empty.body.string.contains(#"data-testid="channels-none""#) && cspViolations(empty.body.string).isEmpty)
            let mail = try await t.request(.POST, "/admin/channels", headers: formHeaders(), body: formBody([
                ("name", "ops mail"), ("kind", "email"), ("language", "ru"), ("active", "false"), ("active", "true"), ("host", "smtp.example.com"),
                ("security", "starttls"), ("port", ""), ("username", "ferry"), ("password", "mail-secret"), ("from", "ferry@example.com"),
                ("to", "ops@example.com, oncall@example.com"), ("verifyTLS", "false"), ("webhookURL", ""), ("botToken", ""), ("chatID", ""), ("baseURL", ""),
            ]))
            #expect(mail.status == .seeOther, "\(mail.body.string)")
            #expect(mail.headers.first(name: .location) == "/admin/channels?done=created")
            let slack = try await t.request(.POST, "/admin/channels", headers: formHeaders(), body: formBody([
                ("name", "alerts"), ("kind", "slack"), ("language", "en"), ("active", "false"), ("active", "true"), ("host", "ignored"),
                ("webhookURL", "https://hooks.example.com/services/T0/B0/hook-secret"),
            ]))
            #expect(slack.status == .seeOther, "\(slack.body.string)")
            let mailRow = try await Self.channel("ops mail", on: t.db)
            let slackRow = try await Self.channel("alerts", on: t.db)
            let mailDTO = ChannelService.dto(mailRow)
            #expect(mailDTO.port == 587 && mailDTO.to == ["ops@example.com", "oncall@example.com"] && mailDTO.verifyTLS == false && mailDTO.language == "ru")
            #expect(mailDTO.hasSecret && ChannelService.dto(slackRow).host == nil, "only the kind's own fields are kept")
            let listed = try await t.request(.GET, "/admin/channels?done=created", headers: html)
            let c = listed.body.string
            #expect(Self.occurrences(#"data-testid="channel-row""#, in: c) == 2 && c.contains(#"data-testid="flash""#))
            #expect(!c.contains("mail-secret") && !c.contains("hook-secret"))

            // A bad channel: refused on the page with its fields; nothing saved, the token not echoed.
            let bad = try await t.request(.POST, "/admin/channels", headers: formHeaders(), body: formBody([
                ("name", "bot"), ("kind", "telegram"), ("language", "en"), ("botToken", "nope-token"), ("chatID", ""), ("baseURL", ""),
            ]))
            #expect(bad.status == .unprocessableEntity)
            let b = bad.body.string
            #expect(b.contains(#"data-testid="form-error""#) && Self.occurrences(#"<p class="field-error">"#, in: b) == 3, "botToken, chatID, baseURL")
            #expect(!b.contains("nope-token") && b.contains(#"<option value="telegram" selected>"#))
            #expect(try await NotificationChannelModel.query(on: t.db).count() == 2)

            // Editing keeps the stored password when its field is left empty.
            let sealed = mailRow.secretSealed
            let editPage = try await t.request(.GET, "/admin/channels/\(mailRow.id!.key)", headers: html)
            #expect(editPage.status == .ok && !editPage.body.string.contains("mail-secret") && editPage.body.string.contains(#"value="smtp.example.com""#))
            let edited = try await t.request(.POST, "/admin/channels/\(mailRow.id!.key)", headers: formHeaders(), body: formBody([
                ("name", "ops mail"), ("kind", "email"), ("language", "en"), ("active", "false"), ("active", "true"), ("host", "smtp2.example.com"),
                ("security", "tls"), ("port", ""), ("username", "ferry"), ("password", ""), ("from", "ferry@example.com"), ("to", "ops@example.com"),
                ("verifyTLS", "false"), ("verifyTLS", "true"),
            ]))
            #expect(edited.status == .seeOther, "\(edited.body.string)")
            let mailAfter = try await Self.channel("ops mail", on: t.db)
            #expect(mailAfter.secretSealed == sealed && ChannelService.dto(mailAfter).host == "smtp2.example.com" && ChannelService.dto(mailAfter).port == 465)

            // A policy through the form: weekdays, window, zone, alert, channels, owners.
            let form = try await t.request(.GET, "/health/policies", headers: html)
            #expect(form.status == .ok && form.body.string.contains(#"data-testid="policy-form""#) && cspViolations(form.body.string).isEmpty)
            #expect(form.body.string.contains("<input type=\"hidden\" name=\"environment\" value=\"\(env.id.key)\"/>"))
            let created = try await t.request(.POST, "/health/policies", headers: formHeaders(), body: formBody([
                ("name", "Morning"), ("environment", env.id.key), ("search", ""), ("weekdays", "1"), ("weekdays", "2"), ("weekdays", "3"),
                ("weekdays", "4"), ("weekdays", "5"), ("windowStart", "6"), ("windowEnd", "9"), ("timeZone", "Europe/Berlin"), ("everyMinutes", "15"),
                ("alert", "warn"), ("channels", slackRow.id!.key), ("channels", mailRow.id!.key), ("notifyOwners", "false"), ("notifyOwners", "true"),
                ("ownerChannel", mailRow.id!.key), ("render", "false"), ("active", "false"), ("active", "true"),
            ]))
            #expect(created.status == .seeOther, "\(created.body.string)")
            #expect(created.headers.first(name: .location) == "/health/policies?done=created")
            let policy = try #require(try await HealthPolicyModel.query(on: t.db).filter(\.$name == "Morning").first())
            #expect(policy.weekdayList == [1, 2, 3, 4, 5] && policy.windowStart == 6 && policy.windowEnd == 9 && policy.timeZone == "Europe/Berlin")
            #expect(policy.everyMinutes == 15 && policy.alert == "warn" && !policy.render && policy.active && policy.notifyOwners)
            #expect(Set(policy.channelIDs) == [slackRow.id!, mailRow.id!] && policy.ownerChannelID == mailRow.id)
            #expect(policy.dashboardIDs.isEmpty && policy.search == nil && policy.scheduleID != nil)

            let list = try await t.request(.GET, "/health/policies?done=created", headers: html)
            let l = list.body.string
            #expect(list.status == .ok && cspViolations(l).isEmpty && l.contains(#"data-testid="flash""#))
            #expect(Self.occurrences(#"data-testid="policy-row""#, in: l) == 1 && l.contains(#"data-policy="Morning""#))
            #expect(l.contains("Mon–Fri 06:00–09:00 Europe/Berlin every 15 min") && l.contains("alerts, ops mail, owners via ops mail"))
            #expect(l.contains("href=\"/health/policies/\(policy.id!.key)\""))
            #expect(try await t.request(.GET, "/health", headers: html).body.string.contains(#"href="/health/policies""#))

            // A bad policy: the window closes before it opens. Refused with the field's error, as sent.
            let refused = try await t.request(.POST, "/health/policies", headers: formHeaders(), body: formBody([
                ("name", "Evening"), ("environment", env.id.key), ("windowStart", "20"), ("windowEnd", "18"), ("timeZone", "UTC"),
                ("everyMinutes", "30"), ("alert", "fail"), ("notifyOwners", "false"), ("render", "false"), ("render", "true"), ("active", "false"),
            ]))
            #expect(refused.status == .unprocessableEntity)
            let r = refused.body.string
            #expect(r.contains(#"data-testid="form-error""#) && r.contains(#"<p class="field-error">an hour 1-24 after the start</p>"#))
            #expect(r.contains(#"value="Evening""#) && r.contains(#"<option value="20" selected>20:00</option>"#))
            #expect(r.contains(#"<option value="18" selected>18:00</option>"#))
            let noEnvironment = try await t.request(.POST, "/health/policies", headers: formHeaders(), body: formBody([
                ("name", "Nowhere"), ("windowStart", "6"), ("windowEnd", "9"),
            ]))
            #expect(noEnvironment.status == .unprocessableEntity && noEnvironment.body.string.contains("pick an environment"))
            #expect(try await HealthPolicyModel.query(on: t.db).count() == 1)

            // Someone without settings:admin: no channel pages; a policy's channels kept, not added to.
            let (_, opToken) = try await t.user("olga", roles: [BuiltInRoles.operator_])
            let op = bearer(opToken)
            #expect(try await t.request(.GET, "/admin/channels", headers: op.merging(html)).status == .forbidden)
            let opPage = try await t.request(.GET, "/health/policies/\(policy.id!.key)", headers: op.merging(html))
            let o = opPage.body.string
            #expect(opPage.status == .ok && o.contains("checked disabled") && o.contains("<input type=\"hidden\" name=\"channels\" value=\"\(slackRow.id!.key)\"/>"))
            let base: [(String, String)] = [
                ("environment", env.id.key), ("weekdays", "1"), ("windowStart", "6"), ("windowEnd", "9"), ("timeZone", "Europe/Berlin"),
                ("everyMinutes", "15"), ("alert", "warn"), ("channels", slackRow.id!.key), ("channels", mailRow.id!.key), ("notifyOwners", "false"),
                ("notifyOwners", "true"), ("ownerChannel", mailRow.id!.key), ("render", "false"), ("active", "false"), ("active", "true"),
            ]
            let third = try await t.request(.POST, "/admin/channels", headers: formHeaders(), body: formBody([
                ("name", "spare"), ("kind", "slack"), ("language", "en"), ("webhookURL", "https://hooks.example.com/services/T0/B1/x"),
            ]))
            #expect(third.status == .seeOther, "\(third.body.string)")
            let spare = try await Self.channel("spare", on: t.db)
            let adding = try await t.request(.POST, "/health/policies/\(policy.id!.key)", headers: op.merging(formHeaders()),
                                             body: formBody([("name", "Morning")] + base + [("channels", spare.id!.key)]))
            #expect(adding.status == .forbidden)
            #expect(adding.body.string.contains(#"data-testid="policy-form""#) && adding.body.string.contains("settings:admin"))
            #expect(!adding.body.string.contains("value=\"\(spare.id!.key)\" checked"), "the form shows the channels it has")
            let unchanged = try #require(try await HealthPolicyModel.find(policy.id, on: t.db))
            #expect(Set(unchanged.channelIDs) == [slackRow.id!, mailRow.id!] && unchanged.weekdayList == [1, 2, 3, 4, 5])
            let keeping = try await t.request(.POST, "/health/policies/\(policy.id!.key)", headers: op.merging(formHeaders()),
                                              body: formBody([("name", "Mornings")] + base))
            #expect(keeping.status == .seeOther, "\(keeping.body.string)")
            let renamed = try #require(try await HealthPolicyModel.find(policy.id, on: t.db))
            #expect(renamed.name == "Mornings" && renamed.weekdayList == [1] && Set(renamed.channelIDs) == [slackRow.id!, mailRow.id!])

            // Run now: the policy over all of its dashboards, in a task whose page opens.
            let run = try await t.request(.POST, "/health/policies/\(policy.id!.key)/run", headers: formHeaders())
            #expect(run.status == .seeOther, "\(run.body.string)")
            let task = try #require(try await TaskModel.query(on: t.db).filter(\.$pluginID == HealthPolicyPlugin.pluginID).first())
            #expect(run.headers.first(name: .location) == "/tasks/\(task.id!.key)")
            let params = try BundleValue.parseJSON(task.params)
            #expect(params["policy"]?.stringValue == policy.id!.key && params["now"]?.boolValue == true)

            // A channel a policy sends through can't be deleted; the policy can, then the channel.
            let inUse = try await t.request(.POST, "/admin/channels/\(mailRow.id!.key)/delete", headers: formHeaders())
            #expect(inUse.status == .conflict && inUse.body.string.contains(#"data-testid="channel-error""#))
            let scheduleID = try #require(renamed.scheduleID)
            let deleted = try await t.request(.POST, "/health/policies/\(policy.id!.key)/delete", headers: formHeaders())
            #expect(deleted.status == .seeOther && deleted.headers.first(name: .location) == "/health/policies?done=deleted")
            #expect(try await HealthPolicyModel.find(policy.id, on: t.db) == nil)
            #expect(try await ScheduleModel.find(scheduleID, on: t.db) == nil, "its schedule goes with it")
            let gone = try await t.request(.POST, "/admin/channels/\(mailRow.id!.key)/delete", headers: formHeaders())
            #expect(gone.status == .seeOther && gone.headers.first(name: .location) == "/admin/channels?done=deleted")
            #expect(try await NotificationChannelModel.find(mailRow.id, on: t.db) == nil)
            #expect(try await t.request(.GET, "/health/policies/\(policy.id!.key)", headers: html).status == .notFound)
        }
    }
}
