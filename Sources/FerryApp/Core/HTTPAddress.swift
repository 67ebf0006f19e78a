import Foundation

/// Whether `text` is an absolute http(s) address with a host and no credentials (at most 2,000
/// characters): the check every address an operator types goes through (webhooks, Bot and LLM
/// APIs, `FERRY_PUBLIC_URL`).
func isHTTPAddress(_ text: String) -> Bool {
    guard text.count <= 2000, let u = URL(string: text), ["http", "https"].contains(u.scheme?.lowercased() ?? ""), let host = u.host, !host.isEmpty,
          u.user == nil else { return false }
    return true
}
