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
}
