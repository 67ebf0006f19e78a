import Foundation

/// The add / edit environment form.
enum EnvironmentFormPage {
    struct Model: Equatable {
        /// nil when adding.
        var id: UUID?
        var name: String
        var url: String
        var authProvider: String
        var username: String
        var verifyTLS: Bool
        var stage: String
        var isDefault: Bool
        /// As typed, so a refused value is shown back.
        var parallelRequests: String
        /// Field name to message.
        var errors: [String: String]
        var formError: String?

        static let empty = Model(id: nil, name: "", url: "", authProvider: "db", username: "", verifyTLS: true, stage: "dev",
                                 isDefault: false, parallelRequests: "1", errors: [:], formError: nil)
    }
}

extension EnvironmentFormPage.Model {
    init(_ dto: EnvironmentDTO) {
        self.init(id: dto.id, name: dto.name, url: dto.url, authProvider: dto.authProvider, username: dto.username, verifyTLS: dto.verifyTLS,
                  stage: dto.stage, isDefault: dto.isDefault, parallelRequests: String(dto.parallelRequests), errors: [:], formError: nil)
    }

    /// Re-shows what the person typed (never the password) with the errors, in `localizer`'s language.
    init(id: UUID?, input: EnvironmentInput, error: AppError, localizer: Localizer) {
        self.init(
            id: id, name: input.name ?? "", url: input.url ?? "", authProvider: input.authProvider ?? "db", username: input.username ?? "",
            verifyTLS: input.verifyTLS ?? true, stage: input.stage ?? "dev", isDefault: input.isDefault ?? false,
            parallelRequests: input.parallelRequests.map(String.init) ?? "1",
            errors: localizer.fieldMessages(error),
            formError: error.fields.isEmpty ? localizer.problemText(error) : nil)
    }
}
