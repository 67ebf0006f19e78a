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
            var status: PromotionStatus
            var startedBy: String
            var createdAt: Date
            var dashboards: [Verdict]
            var canRollBack: Bool
        }

        /// One dashboard's verification outcome.
        struct Verdict: Equatable {
            var title: String
            var pass: Bool
        }
    }
}

extension PromotionsPage.Model.Row {
    init(_ p: PromotionDTO) {
        let dashboards = (p.report?["dashboards"]?.listValue ?? []).map { d in
            PromotionsPage.Model.Verdict(title: d["title"]?.stringValue ?? "?", pass: d["pass"]?.boolValue == true)
        }
        self.init(id: p.id, planID: p.planId, taskID: p.taskId, source: p.source, target: p.target, status: p.status, startedBy: p.startedBy,
                  createdAt: p.createdAt, dashboards: dashboards,
                  canRollBack: p.hasSnapshot && PromotionStatus.rollbackable.contains(p.status))
    }
}
