import Foundation

/// One user, as an administrator edits them: roles, disabled, a new password.
enum UserEditPage {
    struct Model: Equatable {
        var user: UserDTO
        var roles: [String]
        var error: String?
        var flash: String?
    }
}
