import Foundation
import Yams

extension BundleValue {
    /// Parses one YAML document. Scalars keep the type YAML 1.1 resolves for them, except
    /// timestamps and binaries, which stay strings so nothing is reformatted.
    static func parseYAML(_ text: String, path: String) throws -> BundleValue {
        let node: Node?
        do {
            // No resolver rules: Yams would run up to seven regular expressions on every plain
            // scalar, which dominated reading an export. `plainScalar` resolves them instead.
            node = try Yams.compose(yaml: text, .basic)
        } catch {
            throw BundleError.invalidYAML(path: path, message: String(describing: error))
        }
        guard let node else { return .null }
        return try BundleValue(node: node, path: path)
    }

    init(node: Node, path: String) throws {
        switch node {
        case .scalar(let scalar) where scalar.style == .plain && scalar.tag.description.isEmpty:
            self = Self.plainScalar(scalar)
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.description) {
            case .null: self = .null
            case .bool: self = .bool(Bool.construct(from: scalar) ?? false)
            case .int:
                if let i = Int.construct(from: scalar) { self = .int(i) } else { self = .string(scalar.string) }
            case .float:
                if let d = Double.construct(from: scalar) { self = .double(d) } else { self = .string(scalar.string) }
            default: self = .string(scalar.string)
            }
        case .sequence(let seq):
            self = .list(try seq.map { try BundleValue(node: $0, path: path) })
        case .mapping(let mapping):
            var out: [String: BundleValue] = [:]
            for (k, v) in mapping {
                guard let key = k.string else {
                    throw BundleError.invalidYAML(path: path, message: "a mapping key is not a string")
                }
                out[key] = try BundleValue(node: v, path: path)
            }
            self = .map(out)
        }
    }

    /// A plain, untagged scalar as YAML 1.1 (Yams' default rules) types it: null, bool, int,
    /// float, else a string (timestamps stay strings). Only text that starts like a number goes
    /// through Yams' regular expressions.
    static func plainScalar(_ scalar: Node.Scalar) -> BundleValue {
        let s = scalar.string
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return .bool(true)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return .bool(false)
        default: break
        }
        guard let first = s.utf8.first, (48...57).contains(first) || first == 43 || first == 45 || first == 46 else { return .string(s) }
        let typed = Node.Scalar(s)
        switch Resolver.default.resolveTag(of: Node.scalar(typed)) {
        case .int: return Int.construct(from: typed).map(BundleValue.int) ?? .string(s)
        case .float: return Double.construct(from: typed).map(BundleValue.double) ?? .string(s)
        default: return .string(s)
        }
    }

    var yamlNode: Node {
        switch self {
        case .string(let s): return .scalar(s.represented())
        case .int(let i): return Node(String(i), Tag(.int))
        case .double(let d):
            if d.isNaN { return Node(".nan", Tag(.float)) }
            if d.isInfinite { return Node(d < 0 ? "-.inf" : ".inf", Tag(.float)) }
            return Node(d.description, Tag(.float))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .null: return Node("null", Tag(.null))
        case .list(let l): return .sequence(.init(l.map(\.yamlNode)))
        case .map(let m):
            let pairs = m.keys.sorted().map { (Node.scalar($0.represented()), m[$0]!.yamlNode) }
            return .mapping(.init(pairs))
        }
    }

    /// YAML text with sorted keys, unlimited width and Unicode kept: the same value always gives
    /// the same bytes.
    func yamlText() throws -> String {
        try Yams.serialize(node: yamlNode, width: -1, allowUnicode: true, sortKeys: true)
    }
}
