import Fluent
import SQLKit
import Foundation
import SupersetKit
import Vapor

/// A search over the local inventory.
public struct InventoryQuery: Sendable, Equatable {
    public var kind: AssetKind
    /// An environment id or name; nil for all.
    public var environment: String?
    /// Words that must all appear in name, slug/detail, parent, uuid or owners (case-insensitive).
    public var search: String?
    public var owner: String?
    public var page: Int = 1
    public var perPage: Int = 50

    public init(kind: AssetKind, environment: String? = nil, search: String? = nil, owner: String? = nil, page: Int = 1, perPage: Int = 50) {
        self.kind = kind
        self.environment = environment
        self.search = search
        self.owner = owner
        self.page = page
        self.perPage = perPage
    }
}

/// One inventory row as the API returns it.
public struct InventoryItemDTO: Content, Sendable, Equatable {
    public var environmentId: UUID
    public var environment: String
    public var kind: String
    public var id: Int
    public var uuid: String?
    public var name: String
    public var detail: String?
    public var parent: String?
    public var owners: [String]
    public var changedOn: Date?
    /// A link into the Superset UI.
    public var url: String
}

public struct InventoryPage: Content, Sendable {
    public var items: [InventoryItemDTO]
    public var page: Int
    public var perPage: Int
    public var total: Int
    /// Every environment with the time its inventory was last refreshed.
    public var environments: [InventoryEnvironmentDTO]
}

public struct InventoryEnvironmentDTO: Content, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var stage: String
    public var lastSyncAt: Date?
    public var syncStatus: String?
    public var syncError: String?
}

enum InventorySearch {
    static let maxPerPage = 200

    static func validate(page: Int?, perPage: Int?) throws -> (Int, Int) {
        var errors: [FieldError] = []
        let page = page ?? 1
        let perPage = perPage ?? 50
        if page < 1 { errors.append(FieldError(field: "page", code: "invalid", message: "must be 1 or more")) }
        if !(1...maxPerPage).contains(perPage) {
            errors.append(FieldError(field: "per_page", code: "invalid", message: "must be between 1 and \(maxPerPage)"))
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
        return (page, perPage)
    }

    static func run(_ q: InventoryQuery, on db: Database) async throws -> InventoryPage {
        let envs = try await EnvironmentService.list(on: db)
        var query = InventoryItemModel.query(on: db).filter(\.$kind == q.kind.rawValue)
        if let e = q.environment, !e.isEmpty {
            guard let env = envs.first(where: { $0.0.id?.uuidString.lowercased() == e.lowercased() || $0.0.name == e })?.0 else {
                throw AppError(.unprocessableEntity, code: "validation", detail: "environment: no environment '\(e)'",
                               fields: [FieldError(field: "environment", code: "unknown", message: "no environment '\(e)'")])
            }
            query = query.filter(\.$environmentID == env.id!)
        }
        for word in (q.search ?? "").lowercased().split(whereSeparator: \.isWhitespace).prefix(8) {
            query = query.filter(.sql(ContainsText(column: "search_text", text: String(word))))
        }
        if let owner = q.owner?.lowercased().trimmingCharacters(in: .whitespaces), !owner.isEmpty {
            query = query.filter(.sql(ContainsText(column: "owners", text: owner, lowercaseColumn: true)))
        }
        let total = try await query.count()
        let rows = try await query.sort(\.$name).sort(\.$environmentID).sort(\.$supersetID)
            .range(((q.page - 1) * q.perPage)..<(q.page * q.perPage)).all()
        let byID = Dictionary(envs.map { ($0.0.id!, $0.0) }, uniquingKeysWith: { a, _ in a })
        let items = rows.map { m -> InventoryItemDTO in
            let env = byID[m.environmentID]
            return InventoryItemDTO(
                environmentId: m.environmentID, environment: env?.name ?? "?", kind: m.kind, id: m.supersetID, uuid: m.uuid, name: m.name,
                detail: m.detail, parent: m.parent, owners: m.owners.isEmpty ? [] : m.owners.components(separatedBy: ", "),
                changedOn: m.changedOn, url: supersetLink(base: env?.url ?? "", kind: m.kind, id: m.supersetID))
        }
        let environments = envs.map { e, s in
            InventoryEnvironmentDTO(id: e.id!, name: e.name, stage: e.stage, lastSyncAt: s?.succeededAt, syncStatus: s?.status, syncError: s?.error)
        }
        return InventoryPage(items: items, page: q.page, perPage: q.perPage, total: total, environments: environments)
    }

    /// `column LIKE '%text%' ESCAPE '\\'` with the text's own `%`, `_` and `\\` taken literally.
    /// Both sides are lower case (the column is stored lowercased), so this is case-insensitive
    /// on SQLite and PostgreSQL alike.
    struct ContainsText: SQLExpression {
        var column: String
        var text: String
        /// Lower-cases the column in SQL (for columns not stored lowercased; ASCII-only on SQLite).
        var lowercaseColumn = false

        func serialize(to serializer: inout SQLSerializer) {
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            if lowercaseColumn {
                SQLFunction("LOWER", args: SQLColumn(column)).serialize(to: &serializer)
            } else {
                SQLColumn(column).serialize(to: &serializer)
            }
            serializer.write(" LIKE ")
            SQLBind("%" + escaped + "%").serialize(to: &serializer)
            serializer.write(" ESCAPE '\\'")
        }
    }

    static func supersetLink(base: String, kind: String, id: Int) -> String {
        switch kind {
        case "dashboard": return "\(base)/superset/dashboard/\(id)/"
        case "chart": return "\(base)/explore/?slice_id=\(id)"
        case "dataset": return "\(base)/explore/?datasource_type=table&datasource_id=\(id)"
        default: return "\(base)/databaseview/list/"
        }
    }
}
