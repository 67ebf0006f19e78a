import Foundation

/// Where a browser may be sent back to after signing in (`next=`, wherever it is accepted): a
/// plain path on this site, never another site.
enum ReturnPath {
    /// `next` when it is a plain same-site path, otherwise "/". Accepted: it starts with a single
    /// `/`; it holds no `//`, no backslash, and no control or invisible format character (TAB, CR,
    /// LF, anything below 0x20, DEL, C1, line and paragraph separators, bidi and zero-width
    /// marks), since browsers drop or fold some of those and `/\t/evil.com` would become
    /// `//evil.com`; so it has no scheme and no authority. The same checks apply to its
    /// percent-decoded form (`/%2F%2Fevil.com`, `/%09/evil.com`), and text that doesn't decode is
    /// refused.
    static func sanitize(_ next: String?) -> String {
        guard let next, isPlainPath(next), let decoded = next.removingPercentEncoding, isPlainPath(decoded) else { return "/" }
        return next
    }

    private static func isPlainPath(_ s: String) -> Bool {
        guard s.hasPrefix("/"), !s.contains("//"), !s.contains("\\") else { return false }
        return !s.unicodeScalars.contains { scalar in
            if scalar.value < 0x20 || scalar.value == 0x7F { return true }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: return true
            default: return false
            }
        }
    }
}
