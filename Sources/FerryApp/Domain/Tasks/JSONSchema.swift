import Foundation
import SupersetKit

/// The subset of JSON Schema (2020-12) Ferry's plugins use to describe params and inputs:
/// `type` (object, string, integer, number, boolean, array), `properties`, `required`,
/// `additionalProperties: false`, `enum`, `minimum`, `maximum`, `minLength`, `maxLength`,
/// `pattern`, `items`, `default`, and `writeOnly` (a secret: never persisted, never echoed).
///
/// Pure. Validation collects every problem, each named by its JSON path.
public struct JSONSchema: Sendable, Equatable {
    public let document: BundleValue

    public init(_ document: BundleValue) { self.document = document }

    /// A schema written as JSON text in code. Precondition: the text is valid JSON (a literal;
    /// the plugin tests load every registered schema).
    public init(json: String) {
        do { self.document = try BundleValue.parseJSON(Data(json.utf8)) } catch { preconditionFailure("invalid schema JSON: \(error)") }
    }

    /// Problems found, as field errors (`field` is the dotted path from `root`, which names the
    /// value itself: "params" gives "params", "params.seconds").
    public func validate(_ value: BundleValue, at root: String = "") -> [FieldError] {
        var errors: [FieldError] = []
        Self.check(value, against: document, path: root, into: &errors)
        return errors
    }

    /// Fills in `default`s of missing top-level properties.
    public func applyingDefaults(_ value: BundleValue) -> BundleValue {
        guard var object = value.mapValue, let properties = document["properties"]?.mapValue else { return value }
        for (name, schema) in properties where object[name] == nil {
            if let d = schema["default"] { object[name] = d }
        }
        return .map(object)
    }

    /// Top-level properties marked `writeOnly` (secrets).
    public var secretProperties: Set<String> {
        Set((document["properties"]?.mapValue ?? [:]).filter { $0.value["writeOnly"]?.boolValue == true }.keys)
    }

    static func check(_ value: BundleValue, against schema: BundleValue, path: String, into errors: inout [FieldError]) {
        func fail(_ code: String, _ key: String, _ values: [String: String] = [:]) { errors.append(FieldError(field: path, code: code, key: key, values)) }
        if let options = schema["enum"]?.listValue, !options.contains(value) {
            return fail("invalid", "must_be_one_of", ["values": options.map { $0.jsonText() }.joined(separator: ", ")])
        }
        switch schema["type"]?.stringValue {
        case "object":
            guard let object = value.mapValue else { return fail("type", "must_be_object") }
            let properties = schema["properties"]?.mapValue ?? [:]
            for name in schema["required"]?.listValue?.compactMap(\.stringValue) ?? [] where object[name] == nil || object[name]?.isNull == true {
                errors.append(FieldError(field: join(path, name), code: "required", key: "required"))
            }
            for (name, v) in object.sorted(by: { $0.key < $1.key }) {
                if let sub = properties[name] {
                    check(v, against: sub, path: join(path, name), into: &errors)
                } else if schema["additionalProperties"]?.boolValue == false {
                    errors.append(FieldError(field: join(path, name), code: "unknown", key: "unknown_field"))
                }
            }
        case "string":
            guard let s = value.stringValue else { return fail("type", "must_be_string") }
            if let min = schema["minLength"]?.intValue, s.count < min { fail("too_short", "min_length", ["min": String(min)]) }
            if let max = schema["maxLength"]?.intValue, s.count > max { fail("too_long", "max_length", ["max": String(max)]) }
            if let pattern = schema["pattern"]?.stringValue, s.range(of: pattern, options: .regularExpression) == nil {
                fail("invalid", "pattern", ["pattern": pattern])
            }
        case "integer", "number":
            let isInteger = schema["type"]?.stringValue == "integer"
            guard let n = value.doubleValue, !isInteger || n.rounded() == n else {
                return fail("type", isInteger ? "whole_number" : "number")
            }
            if let min = schema["minimum"]?.doubleValue, n < min { fail("too_small", "at_least", ["min": BundleValue.double(min).jsonText()]) }
            if let max = schema["maximum"]?.doubleValue, n > max { fail("too_large", "at_most", ["max": BundleValue.double(max).jsonText()]) }
        case "boolean":
            if value.boolValue == nil { fail("type", "boolean") }
        case "array":
            guard let list = value.listValue else { return fail("type", "list") }
            if let items = schema["items"] {
                for (i, v) in list.enumerated() { check(v, against: items, path: "\(path)[\(i)]", into: &errors) }
            }
        default:
            break
        }
    }

    static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
}
