import Foundation

/// Normalises what an operator typed as a Superset address into a base URL.
public enum SupersetURL {
    /// Trims, lower-cases scheme and host, drops a trailing slash, query and fragment.
    /// Throws `SupersetError.invalidURL` for anything that is not an absolute http(s) URL with a
    /// host, or that embeds credentials.
    public static func normalize(_ raw: String) throws -> URL {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw SupersetError.invalidURL("the URL is empty") }
        guard var comps = URLComponents(string: text), let scheme = comps.scheme?.lowercased() else {
            throw SupersetError.invalidURL("'\(text)' is not a URL; use a form like https://superset.example.com")
        }
        guard scheme == "http" || scheme == "https" else {
            throw SupersetError.invalidURL("the scheme must be http or https, not '\(scheme)'")
        }
        guard let host = comps.host, !host.isEmpty else {
            throw SupersetError.invalidURL("'\(text)' has no host name")
        }
        guard comps.user == nil, comps.password == nil else {
            throw SupersetError.invalidURL("put credentials in the username and password fields, not in the URL")
        }
        if let port = comps.port, !(1...65535).contains(port) {
            throw SupersetError.invalidURL("port \(port) is out of range")
        }
        comps.scheme = scheme
        comps.host = host.lowercased()
        comps.query = nil
        comps.fragment = nil
        while comps.path.hasSuffix("/") { comps.path.removeLast() }
        if (scheme == "http" && comps.port == 80) || (scheme == "https" && comps.port == 443) { comps.port = nil }
        guard let url = comps.url else { throw SupersetError.invalidURL("'\(text)' cannot be parsed") }
        return url
    }
}
