import CYaml  // libyaml, which Yams builds; its events are read here directly
import Foundation
import Yams

/// Reads one YAML document from libyaml's events straight into a `BundleValue`, within bounds.
///
/// Why not `Yams.compose`: its composer recurses once per nesting level, so a deeply nested file
/// overflows the stack before any check could run; and it shares aliased subtrees, so a
/// "billion laughs" file composes in a blink and only explodes when something walks it.
/// Here the stack is explicit (at most `maxYAMLDepth` collections open) and every alias counts
/// the nodes it repeats against `maxYAMLNodes` (per file) and the archive's remaining budget (a
/// scalar weighs one node per 16 bytes of its text, so the bound covers expanded size too), so
/// a hostile file is refused after at most its own bytes are read. Repeated values share storage
/// (`BundleValue` is copy-on-write): memory stays proportional to the file.
///
/// Typing: plain untagged scalars as YAML 1.1 (`BundleValue.plainScalar`), quoted and block
/// scalars stay strings, explicit `!!null`/`!!bool`/`!!int`/`!!float` tags are honoured; mapping
/// keys are their text. An integer outside Int64 is an error, never a double or a string.
struct YAMLComposer {
    let path: String
    let maxDepth: Int
    /// The per-file bound, and the one in force (the smaller of it and the archive's budget left).
    let fileLimit: Int
    let maxNodes: Int
    /// The archive-wide bound, for the error message only.
    let totalLimit: Int
    /// Nodes produced so far, aliases counted at full size.
    private(set) var nodes = 0

    private struct Frame {
        let isMapping: Bool
        let anchor: String?
        /// `nodes` before this collection's own node was counted.
        let nodesBefore: Int
        var list: [BundleValue] = []
        var map: [String: BundleValue] = [:]
        /// A mapping's key waiting for its value.
        var key: String?
    }

    private struct Anchored {
        var value: BundleValue
        var nodes: Int
        /// A scalar's text, for an alias used as a mapping key.
        var text: String?
    }

    private var stack: [Frame] = []
    private var anchors: [String: Anchored] = [:]
    private var root: BundleValue?

    init(path: String, limits: BundleLimits, remaining: Int) {
        self.path = path
        maxDepth = limits.maxYAMLDepth
        fileLimit = limits.maxYAMLNodes
        maxNodes = min(limits.maxYAMLNodes, remaining)
        totalLimit = limits.maxYAMLTotalNodes
    }

    mutating func compose(_ text: String) throws -> BundleValue {
        // libyaml refuses a null input pointer, which an empty string may have.
        if text.utf8.isEmpty { return .null }
        var text = text
        return try text.withUTF8 { bytes in try compose(bytes: bytes) }
    }

    private mutating func compose(bytes: UnsafeBufferPointer<UInt8>) throws -> BundleValue {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw BundleError.invalidYAML(path: path, message: "the YAML parser could not start (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
        var documents = 0
        events: while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) != 0 else { throw Self.parserError(parser, path: path) }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                break events
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw BundleError.invalidYAML(path: path, message: "it holds more than one YAML document") }
            case YAML_SCALAR_EVENT:
                try scalar(event)
            case YAML_SEQUENCE_START_EVENT:
                try push(mapping: false, anchor: Self.text(event.data.sequence_start.anchor))
            case YAML_MAPPING_START_EVENT:
                try push(mapping: true, anchor: Self.text(event.data.mapping_start.anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                try pop()
            case YAML_ALIAS_EVENT:
                try alias(Self.text(event.data.alias.anchor) ?? "")
            default:
                continue  // stream start, document end
            }
        }
        return root ?? .null
    }

    private mutating func scalar(_ event: yaml_event_t) throws {
        let s = event.data.scalar
        let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
        let anchor = Self.text(s.anchor)
        // A long scalar weighs by its size, so aliases of a huge anchored string can't expand
        // past the bound while counting one node each.
        let weight = 1 + s.length / Self.bytesPerNode
        try tally(weight)
        // A mapping key is its text, untyped: the fast path for half of all scalars.
        if anchor == nil, let top = stack.indices.last, stack[top].isMapping, stack[top].key == nil {
            stack[top].key = text
            return
        }
        let value = try BundleValue.scalar(text, tag: Self.text(s.tag), plain: s.style == YAML_PLAIN_SCALAR_STYLE, path: path)
        if let anchor { anchors[anchor] = Anchored(value: value, nodes: weight, text: text) }
        try deliver(value, text: text)
    }

    private mutating func push(mapping: Bool, anchor: String?) throws {
        guard stack.count < maxDepth else { throw BundleError.yamlTooDeep(path: path, limit: maxDepth) }
        let before = nodes
        try tally(1)
        stack.append(Frame(isMapping: mapping, anchor: anchor, nodesBefore: before))
    }

    private mutating func pop() throws {
        guard let frame = stack.popLast() else { return }
        let value: BundleValue = frame.isMapping ? .map(frame.map) : .list(frame.list)
        if let anchor = frame.anchor { anchors[anchor] = Anchored(value: value, nodes: nodes - frame.nodesBefore, text: nil) }
        try deliver(value, text: nil)
    }

    private mutating func alias(_ name: String) throws {
        guard let anchored = anchors[name] else {
            throw BundleError.invalidYAML(path: path, message: "the alias *\(name) refers to no anchor defined before it")
        }
        try tally(anchored.nodes)
        try deliver(anchored.value, text: anchored.text)
    }

    /// Puts a finished value where it belongs: the root, the open list, or the open mapping (as
    /// its pending key's value, or as the next key when it is a scalar).
    private mutating func deliver(_ value: BundleValue, text: String?) throws {
        guard let top = stack.indices.last else {
            root = value
            return
        }
        guard stack[top].isMapping else {
            stack[top].list.append(value)
            return
        }
        if let key = stack[top].key {
            stack[top].map[key] = value
            stack[top].key = nil
        } else {
            guard let text else { throw BundleError.invalidYAML(path: path, message: "a mapping key is not a string") }
            stack[top].key = text
        }
    }

    private mutating func tally(_ n: Int) throws {
        nodes += n
        guard nodes > maxNodes else { return }
        if nodes > fileLimit { throw BundleError.yamlTooLarge(path: path, limit: fileLimit) }
        throw BundleError.tooLarge("its YAML files together expand to more than \(totalLimit) nodes once aliases are repeated (reached in \(path))")
    }

    /// Text bytes that count as one node: a scalar weighs `1 + bytes / bytesPerNode`.
    static let bytesPerNode = 16

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private static func parserError(_ parser: yaml_parser_t, path: String) -> BundleError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unreadable YAML"
        var message = "line \(parser.problem_mark.line + 1), column \(parser.problem_mark.column + 1): \(problem)"
        if let context = parser.context { message += " (\(String(cString: context)))" }
        return .invalidYAML(path: path, message: message)
    }
}

extension BundleValue {
    /// One scalar's value. Untagged: plain ones typed as YAML 1.1, others strings. Tagged: the
    /// core tags Ferry models; any other tag keeps the text.
    static func scalar(_ text: String, tag: String?, plain: Bool, path: String) throws -> BundleValue {
        guard let tag else { return try plain ? plainScalar(text, path: path) : .string(text) }
        switch tag {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return .bool(Bool.construct(from: Node.Scalar(text)) ?? false)
        case Tag.Name.int.rawValue: return try integer(text, path: path) ?? .string(text)
        case Tag.Name.float.rawValue: return Double.construct(from: Node.Scalar(text)).map(BundleValue.double) ?? .string(text)
        default: return .string(text)
        }
    }

    /// A plain, untagged scalar as YAML 1.1 (Yams' default rules) types it: null, bool, int,
    /// float, else a string (timestamps stay strings). Only text that starts like a number goes
    /// through Yams' regular expressions.
    static func plainScalar(_ s: String, path: String) throws -> BundleValue {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return .bool(true)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return .bool(false)
        default: break
        }
        guard let first = s.utf8.first, (48...57).contains(first) || first == 43 || first == 45 || first == 46 else { return .string(s) }
        let typed = Node.Scalar(s)
        switch Resolver.default.resolveTag(of: Node.scalar(typed)) {
        case .int: return try integer(s, path: path) ?? .string(s)
        case .float: return Double.construct(from: typed).map(BundleValue.double) ?? .string(s)
        default: return .string(s)
        }
    }

    /// A YAML 1.1 integer's value: decimal, `0x`, `0o`, `0b`, leading-zero octal or base 60
    /// (`1:30`), with `_` separators. Nil when no digit is left (`0x_`): the caller keeps the text.
    /// Throws `integerOutOfRange` outside Int64, where Ferry refuses rather than round or retype.
    static func integer(_ text: String, path: String) throws -> BundleValue? {
        let cleaned = text.contains("_") ? text.filter { $0 != "_" } : text
        var digits = Substring(cleaned)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        func outOfRange() -> BundleError {
            .integerOutOfRange(path: path, value: text.count <= 40 ? text : "\(text.prefix(24))… (\(text.count) characters)")
        }
        if digits.contains(":") {
            var value = 0
            for part in digits.split(separator: ":", omittingEmptySubsequences: false) {
                guard let p = Int(part) else { return nil }
                let (times, o1) = value.multipliedReportingOverflow(by: 60)
                let (sum, o2) = times.addingReportingOverflow(p)
                if o1 || o2 { throw outOfRange() }
                value = sum
            }
            return .int(negative ? -value : value)
        }
        var radix = 10
        for (prefix, r) in [("0x", 16), ("0b", 2), ("0o", 8)] where digits.hasPrefix(prefix) {
            radix = r
            digits = digits.dropFirst(2)
            break
        }
        if radix == 10, digits.count > 1, digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        guard let value = Int(negative ? "-\(digits)" : String(digits), radix: radix) else {
            // The resolver's rule admitted only digits of this radix, so nil means overflow.
            guard digits.allSatisfy({ $0.isHexDigit }) else { return nil }
            throw outOfRange()
        }
        return .int(value)
    }
}
