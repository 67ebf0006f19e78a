import Foundation
import Vapor

extension Request {
    /// The environments the caller may read (`inventory:read`), by name, and the one a page
    /// shows: `environment` (id or name, which must be readable: else 403/422), or the first.
    func readableEnvironments(selecting environment: String?) async throws -> (readable: [EnvironmentRef], selected: EnvironmentRef?) {
        let names = try await environmentDirectory()
        let readable = environments(.inventoryRead, in: names)
        var selected = readable.first
        if let e = environment?.trimmingCharacters(in: .whitespaces), !e.isEmpty {
            let env = try await environmentNamed(e, field: "environment")
            try authorize(.inventoryRead, environment: env)
            selected = env
        }
        return (readable, selected)
    }
}
