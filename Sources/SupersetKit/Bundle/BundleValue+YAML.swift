import Foundation
import Yams

extension BundleValue {
    /// Parses one YAML document within `limits`: nesting depth, nodes produced with aliases
    /// counted at full size, integers inside Int64 (see `YAMLComposer`). Scalars keep the type
    /// YAML 1.1 resolves for them, except timestamps and binaries, which stay strings so nothing
    /// is reformatted.
    static func parseYAML(_ text: String, path: String, limits: BundleLimits = .default) throws -> BundleValue {
        var budget = limits.maxYAMLTotalNodes
        return try parseYAML(text, path: path, limits: limits, budget: &budget)
    }

    /// The same, drawing the nodes it produces from `budget`, which an archive's files share.
    static func parseYAML(_ text: String, path: String, limits: BundleLimits, budget: inout Int) throws -> BundleValue {
        var composer = YAMLComposer(path: path, limits: limits, remaining: budget)
        let value = try composer.compose(text)
        budget -= composer.nodes
        return value
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
