import Foundation

/// The signed-in user's own page: profile fields, password, and their API tokens.
enum ProfilePage {
    struct Model: Equatable {
        var user: UserDTO
        var tokens: [TokenDTO]
        /// The permissions a new token may carry (the user's own).
        var permissions: [String]
        /// A token just made, shown this once.
        var newToken: String?
        var flash: String?
        var error: String?
        /// How long a new token lasts when no expiry is given, and the longest allowed.
        var tokenPolicy = TokenPolicy()
    }
}
