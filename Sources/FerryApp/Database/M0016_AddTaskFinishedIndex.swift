import Fluent
import SQLKit

/// Indexes `tasks.finished_at`: on PostgreSQL each node looks every few seconds for tasks
/// finished since its last look (`TaskEngine.watchStatuses`), which would otherwise read the
/// whole table each time.
/// Shipped: never edit.
struct M0016_AddTaskFinishedIndex: AsyncMigration {
    var name: String { "M0016_AddTaskFinishedIndex" }

    func prepare(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "ix_tasks_finished").on("tasks").column("finished_at").run()
    }

    func revert(on database: Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "ix_tasks_finished").ifExists().run()
    }
}
