import Foundation
import Logging

extension TaskEngine {
    /// Writes the report of task `id`, whose final status was just committed (finished, cancelled
    /// before it started, or interrupted for good). Idempotent: a second call rewrites the same
    /// report. A failure is logged and never changes the task: the report is a record of the
    /// task, not part of its work.
    func recordReport(_ id: UUID) async {
        do {
            try await ReportService.record(taskID: id, on: db)
        } catch {
            logger.error("writing a task's report failed", metadata: ["task_id": .string(id.uuidString), "error": .string(String(reflecting: error))])
        }
    }
}
