import Fluent
import Foundation
import SupersetKit

/// An environment as authorisation and display need it: its identity (`id`), the name shown at
/// the edges, and the stage tag grants may be limited by.
///
/// Invariant: inside Ferry an environment is referred to by `id` only; `name` is read from the
/// store when a page, API answer or CLI line shows it, so a rename changes nothing but the label.
public struct EnvironmentRef: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var stage: String

    public init(id: UUID, name: String, stage: String) {
        self.id = id
        self.name = name
        self.stage = stage
    }
}

extension EnvironmentModel {
    var ref: EnvironmentRef { EnvironmentRef(id: id!, name: name, stage: stage) }
}

extension UUID {
    /// The form ids take in stored text (comma lists, JSON params): lower-case.
    var key: String { uuidString.lowercased() }
}

/// Every stored environment, by id and by name: one read of the table for the requests that
/// translate between ids (inside) and names (at the edges).
struct EnvironmentDirectory: Sendable {
    let byID: [UUID: EnvironmentRef]
    let byName: [String: EnvironmentRef]

    init(_ refs: [EnvironmentRef]) {
        byID = Dictionary(refs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        byName = Dictionary(refs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Reads the three columns it needs in one plain statement: most pages call this, and a
    /// Fluent query of the whole model (every column aliased, each row reflected) cost more than
    /// the rest of a small page.
    static func load(on db: any Database) async throws -> EnvironmentDirectory {
        struct Row: Decodable { var id: UUID; var name: String; var stage: String }
        let rows = try await TaskStore.sql(db).raw("SELECT id, name, stage FROM \(ident: EnvironmentModel.schema)").all(decoding: Row.self)
        return EnvironmentDirectory(rows.map { EnvironmentRef(id: $0.id, name: $0.name, stage: $0.stage) })
    }

    /// An environment named by id (any case) or by name; nil when there is none.
    func resolve(_ idOrName: String) -> EnvironmentRef? {
        let trimmed = idOrName.trimmingCharacters(in: .whitespaces)
        if let id = UUID(uuidString: trimmed), let ref = byID[id] { return ref }
        return byName[trimmed]
    }

    /// Every environment, by name (what lists and pickers show).
    var sortedByName: [EnvironmentRef] { byID.values.sorted { $0.name < $1.name } }

    /// The name to show for `id`: the environment's current name, or a marker for one deleted since.
    func name(_ id: UUID) -> String { byID[id]?.name ?? "deleted:\(id.key.prefix(8))" }

    /// `name(_:)` for an id kept as text (task and schedule rows).
    func name(key: String) -> String { UUID(uuidString: key).map(name) ?? key }
}

extension EnvironmentDirectory {
    /// `params` as a page shows them: each environment param (`keys`, ids inside Ferry) by the
    /// environment's current name.
    func naming(_ params: BundleValue, keys: [String]) -> BundleValue {
        var shown = params
        for key in keys {
            if let value = params[key]?.stringValue, UUID(uuidString: value) != nil { shown[key] = .string(name(key: value)) }
        }
        return shown
    }
}
