import Foundation

/// A value in Rison, the compact URL notation Superset's list endpoints take in `?q=`.
///
/// Purpose: build `q` parameters without hand-written string concatenation.
/// Invariant: `encoded` is deterministic; object keys are emitted in the order given.
public indirect enum Rison: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case list([Rison])
    case object([(String, Rison)])

    public static func == (lhs: Rison, rhs: Rison) -> Bool { lhs.encoded == rhs.encoded }

    /// The Rison text, not yet URL-encoded.
    public var encoded: String {
        switch self {
        case .string(let s): return Rison.encodeString(s)
        case .int(let i): return String(i)
        case .double(let d):
            if d.rounded() == d, abs(d) < 1e15 { return String(Int(d)) }
            return String(d).replacingOccurrences(of: "+", with: "")
        case .bool(let b): return b ? "!t" : "!f"
        case .null: return "!n"
        case .list(let items): return "!(" + items.map(\.encoded).joined(separator: ",") + ")"
        case .object(let pairs):
            return "(" + pairs.map { Rison.encodeString($0.0) + ":" + $0.1.encoded }.joined(separator: ",") + ")"
        }
    }

    /// The Rison text percent-encoded for use as a query value.
    public var queryValue: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~!*(),:'$")
        return encoded.addingPercentEncoding(withAllowedCharacters: allowed) ?? encoded
    }

    /// Characters that may stand in an unquoted Rison identifier (besides alphanumerics).
    private static let idChars = Set("-_./~")
    private static let notIdStart = Set("-0123456789")

    static func encodeString(_ s: String) -> String {
        if s.isEmpty { return "''" }
        let isIdentifier = s.allSatisfy { ch in
            ch.isASCII && (ch.isLetter || ch.isNumber || idChars.contains(ch))
        } && !notIdStart.contains(s.first!)
        if isIdentifier { return s }
        var out = "'"
        for ch in s {
            switch ch {
            case "!": out += "!!"
            case "'": out += "!'"
            default: out.append(ch)
            }
        }
        return out + "'"
    }
}

extension Rison: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Rison...) { self = .list(elements) }
}
