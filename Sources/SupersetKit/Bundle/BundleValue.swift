import Foundation

/// A YAML/JSON value of an asset file, kept whole so that fields Ferry does not model survive a
/// read-write round trip.
///
/// Invariant: maps are unordered; writers sort keys, which makes output byte-stable.
public indirect enum BundleValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case list([BundleValue])
    case map([String: BundleValue])

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        // `exactly`: 1e300 is whole but no Int (a bare `Int(d)` traps, ending the process).
        case .double(let d) where d.rounded() == d: return Int(exactly: d)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var listValue: [BundleValue]? { if case .list(let l) = self { return l } else { return nil } }
    public var mapValue: [String: BundleValue]? { if case .map(let m) = self { return m } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public subscript(key: String) -> BundleValue? {
        get { mapValue?[key] }
        set {
            guard case .map(var m) = self else { return }
            m[key] = newValue
            self = .map(m)
        }
    }
}

// MARK: - JSON (Superset keeps JSON documents inside string fields)

extension BundleValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let l = try? c.decode([BundleValue].self) { self = .list(l) }
        else { self = .map(try c.decode([String: BundleValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .null: try c.encodeNil()
        case .list(let l): try c.encode(l)
        case .map(let m): try c.encode(m)
        }
    }

    /// Parses JSON text (for fields such as `query_context` or `json_metadata`).
    public static func parseJSON(_ text: String) throws -> BundleValue {
        try JSONDecoder().decode(BundleValue.self, from: Data(text.utf8))
    }

    /// Parses JSON bytes (API responses).
    public static func parseJSON(_ data: Data) throws -> BundleValue {
        try JSONDecoder().decode(BundleValue.self, from: data)
    }

    /// Compact JSON with sorted keys: the same value always gives the same text.
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
