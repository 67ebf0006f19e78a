import Foundation

/// Percent-encoding of text for URLs and form bodies, one byte at a time: RFC 3986's unreserved
/// characters (ASCII letters and digits, `-`, `.`, `_`, `~`) stay, and `/` too when asked (a
/// path or a return path in a link); every other UTF-8 byte becomes `%XX`. So a value never
/// ends early (`&`, `=`, `+`, `#`, `?`, `;` are encoded) and non-ASCII text is always encoded
/// (Foundation's `.alphanumerics` keeps Cyrillic letters as they are, which a form body must not).
enum PercentEncoding {
    static func encode(_ text: String, keepingSlash: Bool = false, into out: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        for b in text.utf8 {
            switch b {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: out.append(b)
            case 0x2F where keepingSlash: out.append(b)
            default:
                out.append(0x25)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
    }

    static func encode(_ text: String, keepingSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        encode(text, keepingSlash: keepingSlash, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
