import Plot

extension EnvironmentKey where Value == String {
    /// The CSRF token of the request a page is rendered for (the session's, or the sign-in
    /// form's own). `Layout.render` places it in the document's environment.
    static var csrfToken: Self { .init(identifier: "ferry.csrfToken", defaultValue: "") }
}

/// The hidden `_csrf` input of a POST form. `H.el` adds it to every form with method post; its
/// value is read from the render environment when the page is rendered, so the token goes into
/// forms and nowhere else (no text of the rendered page is searched or replaced).
struct CSRFField: Component {
    @EnvironmentValue(.csrfToken) private var token: String

    var body: Component {
        H.void("input", [("type", "hidden"), ("name", AuthMiddleware.csrfField), ("value", token)])
    }
}
