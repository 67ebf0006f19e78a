/// Page and page size of a list request, validated once for every list (inventory, tasks).
struct Paging: Sendable, Equatable {
    static let maxPerPage = 200
    var page: Int
    var perPage: Int

    /// Defaults: page 1, 50 per page. Throws a 422 naming each invalid field.
    init(page: Int?, perPage: Int?) throws {
        var errors: [FieldError] = []
        self.page = page ?? 1
        self.perPage = perPage ?? 50
        if self.page < 1 { errors.append(FieldError(field: "page", code: "invalid", message: "must be 1 or more")) }
        if !(1...Self.maxPerPage).contains(self.perPage) {
            errors.append(FieldError(field: "per_page", code: "invalid", message: "must be between 1 and \(Self.maxPerPage)"))
        }
        if !errors.isEmpty { throw AppError.validation(errors) }
    }
}
