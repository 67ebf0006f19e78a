import Foundation

extension ReportPage {
    struct View: PageView {
        let model: Model
        let localizer: Localizer
        var title: String { localizer.t("report.title", ["title": model.report.title]) }
        var nav: NavItem? { .reports }

        func content(_ l: Localizer) -> HTMLNode {
            let r = model.report
            return H.el("div", [("data-testid", "report"), ("data-kind", r.kind.rawValue), ("data-status", r.status.rawValue)], [
                H.el("p", [], [H.a(SiteURL.reportsPage.path, "← " + l.t("reports.title"), [("data-testid", "reports-back")])]),
                H.el("h1", [], [
                    H.text(r.title + " "), ReportComponents.kind(r.kind, l), ReportComponents.status(r.status, outcome: r.outcome, l),
                ]),
                H.el("p", [("class", "lead"), ("data-testid", "report-summary")], text: r.summary),
                cause(l),
                facts(l),
                details(l),
            ])
        }

        // MARK: Shared pieces

        var dash: HTMLNode { H.el("span", [("class", "muted")], text: "—") }

        func number(_ n: Int?) -> HTMLNode { n.map { H.text(String($0)) } ?? dash }

        func text(_ s: String?) -> HTMLNode { s.map { H.text($0) } ?? dash }

        func yesNo(_ b: Bool?, _ l: Localizer) -> HTMLNode { b.map { H.text(l.t($0 ? "report.yes" : "report.no")) } ?? dash }

        func size(_ n: Int64?, _ l: Localizer) -> HTMLNode { n.map { H.text(ReportLine.size($0, l)) } ?? dash }

        func environment(_ id: UUID?, _ l: Localizer) -> HTMLNode {
            guard let id else { return dash }
            return H.text(model.names[id] ?? l.t("report.environment_deleted", ["id": String(id.key.prefix(8))]))
        }

        func code(_ s: String?) -> HTMLNode { s.map { H.el("code", text: $0) } ?? dash }

        /// A definition list of label and value.
        func list(_ testID: String, _ rows: [(String, HTMLNode)]) -> HTMLNode {
            H.el("dl", [("class", "facts"), ("data-testid", testID)], rows.flatMap { (row: (String, HTMLNode)) -> [HTMLNode] in
                [H.el("dt", text: row.0), H.el("dd", [], [row.1])]
            })
        }

        func heading(_ key: String, _ l: Localizer) -> HTMLNode { H.el("h2", text: l.t(key)) }

        func grid(_ testID: String, _ headers: [String], _ rows: [HTMLNode]) -> HTMLNode {
            H.el("table", [("class", "grid"), ("data-testid", testID)], [
                H.el("thead", [], [H.el("tr", [], headers.map { H.el("th", text: $0) })]),
                H.el("tbody", [], rows),
            ])
        }

        // MARK: How it ended

        /// The cause and the next action: an error box for a failure, a notice otherwise.
        func cause(_ l: Localizer) -> HTMLNode {
            let r = model.report
            guard let cause = r.cause else { return H.group([]) }
            let kind = r.status == .failed || r.status == .interrupted || r.outcome == .fail ? "error" : "info"
            return H.el("div", [("class", "notice \(kind)"), ("role", kind == "error" ? "alert" : "status"), ("data-testid", "report-cause")], [
                H.el("strong", text: l.t("report.cause")),
                H.el("p", [("data-testid", "report-cause-text")], text: l.failureText(cause)),
                r.nextAction.map { next in
                    H.group([H.el("strong", text: l.t("report.next_action")), H.el("p", [("data-testid", "report-next-action")], text: l.failureText(next))])
                } ?? H.group([]),
            ])
        }

        func facts(_ l: Localizer) -> HTMLNode {
            let r = model.report
            let task: HTMLNode = model.taskExists
                ? H.a(SiteURL.taskPage(.value(r.taskId)).path, l.t("report.open_task"), [("data-testid", "report-task")])
                : H.el("span", [("class", "muted"), ("data-testid", "report-task-pruned")], text: l.t("report.task_pruned"))
            return list("report-facts", [
                (l.t("reports.col.kind"), H.text(ReportComponents.kindLabel(r.kind, l))),
                (l.t("reports.col.environments"), ReportComponents.environments(r.environments, l)),
                (l.t("report.started_at"), r.startedAt.map { Components.time($0, l) } ?? dash),
                (l.t("reports.col.finished"), Components.time(r.finishedAt, l)),
                (l.t("report.started_by"), H.text(r.createdBy)),
                (l.t("report.plugin"), H.text(l.pluginName(r.plugin))),
                (l.t("report.task"), task),
            ])
        }

        // MARK: Each type's section

        func details(_ l: Localizer) -> HTMLNode {
            guard let d = model.report.details else { return H.group([]) }
            var parts: [HTMLNode] = []
            if let p = d.promotion { parts.append(promotion(p, l)) }
            if let p = d.plan { parts.append(plan(p, l)) }
            if let r = d.rollback { parts.append(rollback(r, l)) }
            if let b = d.backup { parts.append(backup(b, l)) }
            if let c = d.dashboardCheck { parts.append(dashboardCheck(c, l)) }
            if let s = d.sync { parts.append(sync(s, l)) }
            if let g = d.git { parts.append(git(g, l)) }
            if let g = d.generic { parts.append(generic(g, l)) }
            return H.group(parts)
        }

        func origin(_ origin: PromotionOrigin?, backupId: UUID?, backupAt: Date?, revision: String?, _ l: Localizer) -> HTMLNode {
            switch origin {
            case .backup?:
                guard let backupId else { return H.text(l.t("report.origin.backup")) }
                return H.group([
                    H.text(l.t("report.origin.backup") + " "),
                    H.a(SiteURL.backupPage(.value(backupId)).path, backupAt.map(HealthComponents.timeText) ?? String(backupId.key.prefix(8)),
                        [("data-testid", "report-backup")]),
                ])
            case .revision?:
                return H.group([H.text(l.t("report.origin.revision") + " "), code(revision.map { String($0.prefix(12)) })])
            case .environment?: return H.text(l.t("report.origin.environment"))
            case nil: return dash
            }
        }

        /// The plan's verdicts as one row of counts.
        func counts(_ testID: String, create: Int?, update: Int?, unchanged: Int?, conflict: Int?, _ l: Localizer) -> HTMLNode {
            grid(testID, [l.t("plan.action.create"), l.t("plan.action.update"), l.t("plan.action.unchanged"), l.t("plan.action.conflict")], [
                H.el("tr", [], [number(create), number(update), number(unchanged), number(conflict)].map { H.el("td", [], [$0]) }),
            ])
        }

        func promotion(_ p: PromotionReport, _ l: Localizer) -> HTMLNode {
            H.el("section", [("data-testid", "report-promotion")], [
                heading(model.report.kind == .restore ? "report.section.restore" : "report.section.promotion", l),
                list("report-promotion-facts", [
                    (l.t("report.source"), environment(p.sourceId, l)),
                    (l.t("report.target"), environment(p.targetId, l)),
                    (l.t("report.origin"), origin(p.origin, backupId: p.backupId, backupAt: p.backupCreatedAt, revision: p.revision, l)),
                    (l.t("report.scope"), p.scope.map { H.text(l.t("promote.scope.\($0)")) } ?? dash),
                    (l.t("report.imported"), number(p.imported)),
                    (l.t("report.charts_checked"), number(p.chartsChecked)),
                    (l.t("report.charts_failed"), p.chartsFailed.map { H.el("span", [("class", $0 > 0 ? "fail" : nil)], text: String($0)) } ?? dash),
                    (l.t("report.verified"), yesNo(p.verified, l)),
                    (l.t("report.git_commit"), code(p.gitCommit.map { String($0.prefix(12)) })),
                ]),
                H.el("h3", text: l.t("report.plan_counts")),
                counts("report-plan-counts", create: p.created, update: p.updated, unchanged: p.unchanged, conflict: p.conflicts, l),
                H.el("h3", text: l.t("report.verification")),
                p.dashboards.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "report-no-verification")], text: l.t("report.no_verification"))
                    : grid("report-verification", [l.t("report.col.dashboard"), l.t("report.col.result"), l.t("report.col.charts"),
                                                   l.t("report.col.charts_failed"), l.t("report.col.reasons")], p.dashboards.map { d in
                        H.el("tr", [("data-testid", "report-verified-dashboard"), ("data-passed", d.passed ? "true" : "false")], [
                            H.el("td", [], [H.text(d.title + " "), d.targetId.map { H.el("small", [("class", "muted")], text: l.t("report.dashboard_id", ["id": String($0)])) } ?? H.group([])]),
                            H.el("td", [], [HealthComponents.badge(d.passed ? .pass : .fail, l)]),
                            H.el("td", [], [number(d.charts)]),
                            H.el("td", [], [number(d.chartsFailed)]),
                            H.el("td", [], [d.reasons.isEmpty ? dash : H.el("ul", [("class", "plain")], d.reasons.map { H.el("li", text: $0) })]),
                        ])
                    }),
                p.dashboardsOmitted.map { H.el("p", [("class", "muted")], text: l.t("report.omitted", ["count": String($0)])) } ?? H.group([]),
            ])
        }

        func plan(_ p: PlanReport, _ l: Localizer) -> HTMLNode {
            H.el("section", [("data-testid", "report-plan")], [
                heading("report.section.plan", l),
                list("report-plan-facts", [
                    (l.t("report.source"), environment(p.sourceId, l)),
                    (l.t("report.target"), environment(p.targetId, l)),
                    (l.t("report.origin"), origin(p.origin, backupId: p.backupId, backupAt: nil, revision: p.revision, l)),
                    (l.t("report.scope"), p.scope.map { H.text(l.t("promote.scope.\($0)")) } ?? dash),
                    (l.t("report.blocking"), number(p.blocking)),
                    (l.t("report.plan_link"), p.planId.map { H.a(SiteURL.planPage(.value($0)).path, l.t("report.open_plan"), [("data-testid", "report-plan-link")]) } ?? dash),
                ]),
                counts("report-plan-counts", create: p.create, update: p.update, unchanged: p.unchanged, conflict: p.conflict, l),
                p.conflicts.isEmpty ? H.group([]) : H.group([
                    H.el("h3", text: l.t("report.conflicts")),
                    grid("report-conflicts", [l.t("report.col.asset"), l.t("report.col.kind"), l.t("report.col.blocking"), l.t("report.col.reasons")],
                         p.conflicts.map { c in
                        H.el("tr", [("data-testid", "report-conflict")], [
                            H.el("td", text: c.name),
                            H.el("td", text: AssetKindLabel.text(c.kind, l)),
                            H.el("td", [], [yesNo(c.blocking, l)]),
                            H.el("td", [], [c.reasons.isEmpty ? dash : H.el("ul", [("class", "plain")], c.reasons.map { H.el("li", text: $0) })]),
                        ])
                    }),
                ]),
            ])
        }

        func rollback(_ r: RollbackReport, _ l: Localizer) -> HTMLNode {
            H.el("section", [("data-testid", "report-rollback")], [
                heading("report.section.rollback", l),
                list("report-rollback-facts", [
                    (l.t("report.target"), environment(r.targetId, l)),
                    (l.t("report.restored"), number(r.restored)),
                    (l.t("report.deleted_created"), number(r.deleted)),
                    (l.t("report.delete_created"), yesNo(r.deleteCreated, l)),
                    (l.t("report.promotion"), r.promotionId.map { H.a(SiteURL.promotionsPage.path, String($0.key.prefix(8)), [("data-testid", "report-promotion-link")]) } ?? dash),
                ]),
            ])
        }

        func backup(_ b: BackupReport, _ l: Localizer) -> HTMLNode {
            var rows: [(String, HTMLNode)] = [(l.t("report.operation"), H.text(l.t("report.backup.\(b.operation.rawValue)")))]
            var extra: HTMLNode = H.group([])
            switch b.operation {
            case .run:
                rows += [
                    (l.t("reports.col.environments"), environment(b.environmentId, l)),
                    (l.t("report.backup_link"), b.backupId.map { H.a(SiteURL.backupPage(.value($0)).path, l.t("report.open_backup"), [("data-testid", "report-backup")]) } ?? dash),
                    (l.t("report.backup_type"), b.full.map { BackupComponents.backupType(full: $0, l) } ?? dash),
                    (l.t("report.assets"), number(b.assets)),
                    (l.t("report.new_assets"), number(b.newAssets)),
                    (l.t("report.exported"), number(b.exported)),
                    (l.t("report.total_bytes"), size(b.totalBytes, l)),
                    (l.t("report.new_bytes"), size(b.newBytes, l)),
                    (l.t("report.git_commit"), code(b.gitCommit.map { String($0.prefix(12)) })),
                ]
            case .verify:
                rows += [
                    (l.t("report.backups_checked"), number(b.checked)),
                    (l.t("report.blobs_checked"), number(b.blobs)),
                    (l.t("report.corrupt"), b.corrupt.map { H.el("span", [("class", $0 > 0 ? "fail" : nil)], text: String($0)) } ?? dash),
                    (l.t("report.missing"), number(b.missing)),
                ]
                if !b.corruptBackups.isEmpty {
                    extra = grid("report-corrupt", [l.t("report.col.backup"), l.t("report.col.problems")], b.corruptBackups.map { c in
                        H.el("tr", [("data-testid", "report-corrupt-backup")], [
                            H.el("td", [], [H.a(SiteURL.backupPage(.value(c.backupId)).path, String(c.backupId.key.prefix(8)))]),
                            H.el("td", [], [c.problems.isEmpty ? dash : H.el("ul", [("class", "plain")], c.problems.map { H.el("li", text: $0) })]),
                        ])
                    })
                }
            case .retention:
                rows += [
                    (l.t("report.backups_deleted"), number(b.deleted)),
                    (l.t("report.blobs_removed"), number(b.blobsRemoved)),
                    (l.t("report.bytes_freed"), size(b.bytesFreed, l)),
                    (l.t("report.manifests_removed"), number(b.manifestsRemoved)),
                ]
            }
            return H.el("section", [("data-testid", "report-backup-section")], [heading("report.section.backup", l), list("report-backup-facts", rows), extra])
        }

        func dashboardCheck(_ c: DashboardCheckReport, _ l: Localizer) -> HTMLNode {
            var rows: [(String, HTMLNode)] = [(l.t("reports.col.environments"), environment(c.environmentId, l))]
            if c.policyId != nil || c.policyName != nil {
                rows.append((l.t("report.policy"), c.policyId.map { H.a(SiteURL.healthPolicyPage(.value($0)).path, c.policyName ?? String($0.key.prefix(8)), [("data-testid", "report-policy")]) }
                             ?? text(c.policyName)))
            }
            rows += [
                (l.t("report.dashboards_checked"), number(c.dashboards)),
                (l.t("health.status.pass"), number(c.pass)),
                (l.t("health.status.warn"), number(c.warn)),
                (l.t("health.status.fail"), c.fail.map { H.el("span", [("class", $0 > 0 ? "fail" : nil)], text: String($0)) } ?? dash),
                (l.t("report.rendered"), yesNo(c.rendered, l)),
            ]
            if c.notified != nil || c.notificationsFailed != nil {
                rows += [(l.t("report.notified"), number(c.notified)), (l.t("report.notifications_failed"), number(c.notificationsFailed))]
            }
            let worst: HTMLNode = c.worst.isEmpty
                ? H.el("p", [("class", "empty"), ("data-testid", "report-no-failing")], text: l.t("report.no_failing"))
                : grid("report-worst", [l.t("report.col.dashboard"), l.t("report.col.result"), l.t("report.col.issues"), l.t("report.col.first_issue")],
                       c.worst.map { d in
                    let name: HTMLNode = model.canOpenChecks
                        ? H.a(HealthComponents.checkPath(d.checkId), d.title, [("data-testid", "report-check-link")])
                        : H.text(d.title)
                    return H.el("tr", [("data-testid", "report-checked-dashboard"), ("data-status", d.status.rawValue)], [
                        H.el("td", [], [name, H.text(" "), H.el("small", [("class", "muted")], text: l.t("report.dashboard_id", ["id": String(d.dashboardId)]))]),
                        H.el("td", [], [HealthComponents.badge(d.status, l)]),
                        H.el("td", text: String(d.issues)),
                        H.el("td", [], [text(d.firstIssue)]),
                    ])
                })
            return H.el("section", [("data-testid", "report-dashboard-check")], [
                heading("report.section.dashboard_check", l), list("report-check-facts", rows),
                H.el("h3", text: l.t("report.worst")), worst,
            ])
        }

        func sync(_ s: SyncReport, _ l: Localizer) -> HTMLNode {
            H.el("section", [("data-testid", "report-sync")], [
                heading("report.section.sync", l),
                list("report-sync-facts", [(l.t("reports.col.environments"), environment(s.environmentId, l))]),
                grid("report-sync-counts", [l.t("plan.kind.dashboard"), l.t("plan.kind.chart"), l.t("plan.kind.dataset"), l.t("plan.kind.database")], [
                    H.el("tr", [], [number(s.dashboards), number(s.charts), number(s.datasets), number(s.databases)].map { H.el("td", [], [$0]) }),
                ]),
            ])
        }

        func git(_ g: GitReport, _ l: Localizer) -> HTMLNode {
            var rows: [(String, HTMLNode)] = [(l.t("report.operation"), H.text(l.t("report.git.\(g.operation.rawValue)")))]
            if g.environmentId != nil { rows.append((l.t("reports.col.environments"), environment(g.environmentId, l))) }
            switch g.operation {
            case .snapshot:
                rows += [
                    (l.t("report.git_commit"), code(g.commit.map { String($0.prefix(12)) })),
                    (l.t("report.files_changed"), number(g.changed)), (l.t("report.files_added"), number(g.added)), (l.t("report.files_removed"), number(g.removed)),
                    (l.t("report.pushed"), yesNo(g.pushed, l)),
                ]
                if let e = g.pushError { rows.append((l.t("report.push_error"), H.el("span", [("class", "fail")], text: e))) }
            case .drift:
                rows += [
                    (l.t("report.in_sync"), number(g.inSync)), (l.t("report.drifted"), number(g.drifted)),
                    (l.t("report.uncommitted"), number(g.uncommitted)), (l.t("report.deleted_dashboards"), number(g.deletedDashboards)),
                ]
            case .push:
                rows += [(l.t("report.git_commit"), code(g.commit.map { String($0.prefix(12)) })), (l.t("report.branch"), text(g.branch))]
            case .pull:
                rows += [
                    (l.t("report.pull_result"), g.pullResult.map { H.text(l.t("report.pull.\($0.rawValue)")) } ?? dash),
                    (l.t("report.git_commit"), code(g.commit.map { String($0.prefix(12)) })), (l.t("report.resolved"), number(g.resolved)),
                ]
            }
            return H.el("section", [("data-testid", "report-git")], [
                heading("report.section.git", l), list("report-git-facts", rows),
                g.driftedDashboards.isEmpty ? H.group([]) : H.group([
                    H.el("h3", text: l.t("report.drifted_dashboards")),
                    H.el("ul", [("data-testid", "report-drifted")], g.driftedDashboards.map { H.el("li", text: $0) }),
                ]),
            ])
        }

        func generic(_ g: GenericReport, _ l: Localizer) -> HTMLNode {
            H.el("section", [("data-testid", "report-generic")], [
                heading("report.section.result", l),
                g.rows.isEmpty
                    ? H.el("p", [("class", "empty"), ("data-testid", "report-no-result")], text: l.t("report.no_result"))
                    : grid("report-result", [l.t("report.col.key"), l.t("report.col.value")], g.rows.map { row in
                        H.el("tr", [("data-testid", "report-result-row")], [H.el("td", [], [H.el("code", text: row.key)]), H.el("td", text: row.value)])
                    }),
                g.omitted.map { H.el("p", [("class", "muted")], text: l.t("report.omitted", ["count": String($0)])) } ?? H.group([]),
            ])
        }
    }
}

/// An asset kind's name ("dashboard", "chart"...) in the reader's language, from its raw value.
enum AssetKindLabel {
    static func text(_ raw: String, _ l: Localizer) -> String {
        ["dashboard", "chart", "dataset", "database"].contains(raw) ? l.t("plan.kind.\(raw)") : raw
    }
}
