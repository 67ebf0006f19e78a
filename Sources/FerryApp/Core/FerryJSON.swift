import Foundation
import Vapor

/// Installs Ferry's JSON coders as Vapor's global content coders, once per process (the global
/// is process-wide, so configuring several apps, as tests do, must not race on it).
enum FerryJSON {
    private static let once: Void = {
        ContentConfiguration.global.use(encoder: JSONEncoder.ferry, for: .json)
        ContentConfiguration.global.use(decoder: JSONDecoder.ferry, for: .json)
    }()

    static func install() { _ = once }
}

extension JSONEncoder {
    /// Ferry's JSON: ISO 8601 dates, so API clients never see Foundation's reference-date numbers.
    static var ferry: JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        return e
    }
}

extension JSONDecoder {
    static var ferry: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
