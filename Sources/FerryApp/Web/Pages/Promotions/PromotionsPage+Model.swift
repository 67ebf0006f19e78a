import Foundation

/// Promotion history: each apply with its outcome and verification, and a rollback button.
enum PromotionsPage {
    struct Model: Equatable {
        var promotions: [Row]
        var flash: String?

        struct Row: Equatable {
            var id: UUID
            var planID: UUID
            var taskID: UUID?
            var source: String
            var target: String
            var status: String
            var startedBy: String
            var createdAt: Date
            var dashboards: [(title: String, pass: Bool)]
            var canRollBack: Bool

            static func == (a: Row, b: Row) -> Bool {
                a.id == b.id && a.status == b.status && a.dashboards.map(\.title) == b.dashboards.map(\.title)
                    && a.dashboards.map(\.pass) == b.dashboards.map(\.pass) && a.canRollBack == b.canRollBack
            }
        }
    }
}

extension PromotionsPage.Model.Row {
    init(_ p: PromotionDTO) {
        let dashboards = (p.report?["dashboards"]?.listValue ?? []).map { d in
            (title: d["title"]?.stringValue ?? "?", pass: d["pass"]?.boolValue == true)
        }
        self.init(id: p.id, planID: p.planId, taskID: p.taskId, source: p.source, target: p.target, status: p.status, startedBy: p.startedBy,
                  createdAt: p.createdAt, dashboards: dashboards,
                  canRollBack: p.hasSnapshot && ["succeeded", "partial", "failed", "rollback_failed"].contains(p.status))
    }
}
