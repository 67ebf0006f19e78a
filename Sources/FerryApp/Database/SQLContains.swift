import SQLKit

/// `LOWER(column) LIKE '%text%' ESCAPE '\'`, with the text's own `%`, `_` and `\` taken
/// literally: a case-insensitive "contains" on SQLite and PostgreSQL alike (ASCII case-folding
/// on SQLite). For user-typed filters, which must never act as wildcards.
struct SQLContains: SQLExpression {
    var column: String
    var text: String

    func serialize(to serializer: inout SQLSerializer) {
        let escaped = text.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        SQLFunction("LOWER", args: SQLColumn(column)).serialize(to: &serializer)
        serializer.write(" LIKE ")
        SQLBind("%" + escaped + "%").serialize(to: &serializer)
        serializer.write(" ESCAPE '\\'")
    }
}
