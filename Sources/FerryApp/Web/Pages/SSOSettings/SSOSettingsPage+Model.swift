import Foundation
import SupersetKit

/// Single sign-on settings, and the result of a "test sign-in".
enum SSOSettingsPage {
    struct Model: Equatable {
        var settings: SSOSettingsDTO
        var error: String?
        var flash: String?
        /// What a test sign-in returned: the identity and roles Ferry would give.
        var test: SSOIdentity?
    }
}
