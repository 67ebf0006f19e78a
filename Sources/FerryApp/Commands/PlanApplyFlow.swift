import Foundation
import SupersetKit
import Vapor

/// What `ferry promote` and `ferry restore` do once a plan is queued: wait for it, print it,
/// stop at conflicts or on a dry run, apply with a progress bar, print PASS/FAIL per dashboard.
/// Throws `ExitCode` 1 (failed), 2 (conflicts, or values a downgrade loses not accepted),
/// 3 (verification failed), 4 (a database needs a mapping). With `noun` "Promotion" its output is `PromoteCommand`'s, line for line.
enum PlanApplyFlow {
    static func run(planID: String, planTask: String, noun: String, dryRun: Bool, acceptShared: Bool, acceptLosses: Bool,
                    api: FerryAPIClient, console: any Console) async throws {
        let planned = try await api.wait(task: planTask, console: console, bar: false)
        if planned["status"]?.stringValue == "awaiting_input" {
            console.error("The plan needs input: \(planned["inputRequest"]?["prompt"]?.stringValue ?? "?")")
            // A waiting plan holds both environments' task slots: don't leave it behind.
            _ = try? await api.send("POST", "/api/tasks/\(planTask)/cancel", nil, console: console)
            console.error("Nothing was written. Map the database (--map SOURCE=TARGET, PUT /api/mappings or the Promote page), then run again.")
            throw ExitCode(4)
        }
        guard planned["status"]?.stringValue == "succeeded" else {
            console.error("Planning failed: \(planned["error"]?.stringValue ?? "?")\n\(planned["nextAction"]?.stringValue ?? "")")
            throw ExitCode(1)
        }
        let plan = try await api.send("GET", "/api/promotions/plans/\(planID)", nil, console: console)
        PromoteCommand.printPlan(plan, console: console)
        let conflicts = plan["summary"]?["conflict"]?.intValue ?? 0
        let blocking = plan["summary"]?["blocking"]?.intValue ?? 0
        if dryRun {
            console.print("Dry run: nothing was written. Plan \(planID).")
            if (plan["summary"]?["lost"]?.intValue ?? 0) > 0 {
                console.print("The target runs an older Superset: applying needs --accept-losses for the values listed as lost.")
            }
            if conflicts > 0 { throw ExitCode(2) }
            return
        }
        if blocking > 0 || (conflicts > 0 && !acceptShared) {
            console.error(blocking > 0 ? "The plan has blocking conflicts; nothing was written." : "The plan updates shared charts or datasets; rerun with --accept-shared to accept.")
            throw ExitCode(2)
        }
        if (plan["summary"]?["lost"]?.intValue ?? 0) > 0 && !acceptLosses {
            console.error("The target runs an older Superset: the values listed as lost above can't be imported there. Nothing was written; rerun with --accept-losses to accept.")
            throw ExitCode(2)
        }
        let applied = try await api.send("POST", "/api/promotions/\(planID)/apply", .map(["acceptShared": .bool(acceptShared), "acceptLosses": .bool(acceptLosses)]), console: console)
        guard let promotionID = applied["id"]?.stringValue, let applyTask = applied["taskId"]?.stringValue else { throw ExitCode(1) }
        console.print("Applying (promotion \(promotionID), task \(applyTask))...")
        let done = try await api.wait(task: applyTask, console: console, bar: true)
        let promotion = try await api.send("GET", "/api/promotions/\(promotionID)", nil, console: console)
        for d in promotion["report"]?["dashboards"]?.listValue ?? [] {
            let pass = d["pass"]?.boolValue == true
            console.print("\(pass ? "PASS" : "FAIL")  \(d["title"]?.stringValue ?? "")\(pass ? "" : ": " + (d["reasons"]?.listValue ?? []).compactMap(\.stringValue).joined(separator: "; "))")
        }
        switch done["status"]?.stringValue {
        case "succeeded": console.print("\(noun) \(promotionID) succeeded and verified.")
        case "partial":
            console.error("\(noun) \(promotionID) applied, but verification failed. Roll back with POST /api/promotions/\(promotionID)/rollback.")
            throw ExitCode(3)
        default:
            console.error("\(noun) failed: \(done["error"]?.stringValue ?? "?")\n\(done["nextAction"]?.stringValue ?? "")")
            throw ExitCode(1)
        }
    }
}
