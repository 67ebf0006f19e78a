import Foundation
import Vapor

extension Request {
    /// The body decoded as `T`, or nil when the request has none (the defaults apply then). A
    /// body that is present but malformed is a 400 problem naming what is wrong, never
    /// silently the defaults.
    func decodeOptionalBody<T: Decodable>(_ type: T.Type) throws -> T? {
        guard let data = body.data, data.readableBytes > 0,
              !data.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return nil }
        return try content.decode(T.self)
    }

    /// An urlencoded form body as every value of every name, in order (`a=1&a=2` is `["a": ["1",
    /// "2"]]`). Bounded by the body size the route collects; at most 10,000 fields are read.
    func formFields() -> [String: [String]] {
        guard let buffer = body.data else { return [:] }
        var fields: [String: [String]] = [:]
        for pair in String(decoding: buffer.readableBytesView, as: UTF8.self).split(separator: "&").prefix(10_000) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            let name = decode(parts[0])
            guard !name.isEmpty else { continue }
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return fields
    }
}
