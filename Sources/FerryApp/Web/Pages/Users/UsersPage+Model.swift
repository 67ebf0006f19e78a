import Foundation

/// Administrators' list of users, with a form to add a local user.
enum UsersPage {
    struct Model: Equatable {
        var users: [UserDTO]
        var roles: [String]
        var form = Form()
        var error: String?
        var flash: String?

        struct Form: Equatable {
            var username = ""
            var displayName = ""
            var roles: [String] = []
        }
    }
}
