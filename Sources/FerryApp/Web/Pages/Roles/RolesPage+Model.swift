import Foundation

/// Roles and their grants; a form to add or change one (grants one per line).
enum RolesPage {
    struct Model: Equatable {
        var roles: [RoleDTO]
        /// The role being edited, nil to add one.
        var editing: RoleDTO?
        var form = Form()
        var permissions: [String]
        var error: String?
        var flash: String?

        struct Form: Equatable {
            var name = ""
            var description = ""
            var grants = ""
        }
    }
}
