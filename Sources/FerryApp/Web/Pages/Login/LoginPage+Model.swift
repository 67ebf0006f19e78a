import Foundation

/// The sign-in page: a local account form and, when configured, single sign-on.
enum LoginPage {
    struct Model: Equatable {
        /// Where to go after signing in (a local path).
        var next: String
        var username = ""
        var error: String?
        /// The SSO button's label, nil when SSO is off.
        var sso: String?
        /// No account exists yet: say how to make the first one.
        var noAccounts = false
    }
}
