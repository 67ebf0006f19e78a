/// Page and page size of a list request, validated once for every list (inventory, tasks,
/// promotions).
///
/// Invariant: `page` is at most `maxPage` and `perPage` at most `maxPerPage`, so `offset` and
/// `range` can't overflow whatever a request asks for.
struct Paging: Sendable, Equatable {
    static let maxPerPage = 200
    /// Far beyond any real list, small enough that page × per_page fits any integer.
    static let maxPage = 1_000_000
    var page: Int
    var perPage: Int

    /// Defaults: page 1, 50 per page. Throws a 422 naming each invalid field.
    init(page: Int?, perPage: Int?) throws {
        var errors: [FieldError] = []
        self.page = page ?? 1
        self.perPage = perPage ?? 50
        if !(1...Self.maxPage).contains(self.page) {
            errors.append(FieldError(field: "page", code: "invalid", key: "between", ["min": "1", "max": String(Self.maxPage)]))
        }
        if !(1...Self.maxPerPage).contains(self.perPage) {
            errors.append(FieldError(field: "per_page", code: "invalid", key: "between", ["min": "1", "max": String(Self.maxPerPage)]))
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
    }

    var offset: Int { (page - 1) * perPage }
    /// The rows of this page, for Fluent's `range`.
    var range: Range<Int> { offset..<(offset + perPage) }
}
