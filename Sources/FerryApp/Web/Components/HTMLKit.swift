/// A node of a page: what pages and components build and `HTMLWriter` writes out.
///
/// Invariant: every string inside a node is already HTML: `H` escapes text and attribute values
/// when it makes the node, so writing is copying bytes (no second escaping pass, no lookups).
/// Nodes are values; a page's tree is built once per request and written once.
indirect enum HTMLNode: Sendable {
    /// `<name attributes>children</name>`.
    case element(name: String, attributes: [HTMLAttribute], children: [HTMLNode])
    /// `<name attributes/>` (`input`, `meta`, `link`).
    case void(name: String, attributes: [HTMLAttribute])
    /// Markup or escaped text, written as it is.
    case raw(String)
    /// Several nodes in a row, without an element around them.
    case group([HTMLNode])
    /// The hidden `_csrf` input of a POST form, filled with the token of the request the page is
    /// written for (`HTMLWriter.csrfToken`), so views stay pure functions of their models.
    case csrfField
}

/// An attribute whose value is already escaped; a nil value is written as a bare name
/// (`hidden`, `checked`).
struct HTMLAttribute: Sendable {
    let name: String
    let value: String?

    /// Only `H.attrs` makes attributes, so every value is escaped.
    fileprivate init(name: String, value: String?) {
        assert(!name.isEmpty && name.utf8.allSatisfy { H.isNameByte($0) }, "attribute name \(name)")
        self.name = name
        self.value = value
    }
}

/// Ferry's small HTML vocabulary. Text and attribute values are escaped here, so a Superset asset
/// named `"><script>` renders as text.
enum H {
    /// A POST form gets the hidden CSRF input as its first child.
    static func el(_ name: String, _ attributes: [(String, String?)] = [], _ children: [HTMLNode] = []) -> HTMLNode {
        assert(!name.isEmpty && name.utf8.allSatisfy(isNameByte), "element name \(name)")
        let written = attrs(attributes)
        // Decided on the attribute as written (a method given twice: the last one).
        if name == "form", written.contains(where: { $0.name == "method" && $0.value?.lowercased() == "post" }) {
            return .element(name: name, attributes: written, children: [.csrfField] + children)
        }
        return .element(name: name, attributes: written, children: children)
    }

    /// Element and attribute names are Ferry's own literals: letters, digits and `-`.
    static func isNameByte(_ b: UInt8) -> Bool {
        (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b) || b == 0x2D
    }

    static func el(_ name: String, _ attributes: [(String, String?)] = [], text: String) -> HTMLNode {
        el(name, attributes, [H.text(text)])
    }

    /// A void element (`input`, `meta`, `link`).
    static func void(_ name: String, _ attributes: [(String, String?)]) -> HTMLNode {
        assert(!name.isEmpty && name.utf8.allSatisfy(isNameByte), "element name \(name)")
        return .void(name: name, attributes: attrs(attributes))
    }

    /// Text, escaped in one pass over its bytes (`&`, `<`, `>`).
    static func text(_ s: String) -> HTMLNode { .raw(escape(s, quotes: false)) }

    static func group(_ nodes: [HTMLNode]) -> HTMLNode { .group(nodes) }

    static func a(_ href: String, _ text: String, _ attributes: [(String, String?)] = []) -> HTMLNode {
        el("a", [("href", href)] + attributes, text: text)
    }

    /// Attributes with a nil value are left out; a value of "" is a bare boolean attribute. A
    /// name given twice keeps its first place and its last value.
    static func attrs(_ list: [(String, String?)]) -> [HTMLAttribute] {
        var out: [HTMLAttribute] = []
        out.reserveCapacity(list.count)
        for (name, value) in list {
            guard let value else { continue }
            let attribute = HTMLAttribute(name: name, value: value.isEmpty ? nil : escape(value))
            if let i = out.firstIndex(where: { $0.name == name }) { out[i] = attribute } else { out.append(attribute) }
        }
        return out
    }

    /// `&`, `<`, `>`, and with `quotes` `"` and `'`, as entities; a string without any is
    /// returned as it is.
    /// Works on UTF-8 bytes: none of the five occurs inside another character's encoding.
    static func escape(_ s: String, quotes: Bool = true) -> String {
        let utf8 = s.utf8
        guard utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || (quotes && ($0 == 0x22 || $0 == 0x27)) }) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 24)
        for b in utf8 {
            switch b {
            case 0x26: out.append(contentsOf: "&amp;".utf8)
            case 0x3C: out.append(contentsOf: "&lt;".utf8)
            case 0x3E: out.append(contentsOf: "&gt;".utf8)
            case 0x22 where quotes: out.append(contentsOf: "&quot;".utf8)
            case 0x27 where quotes: out.append(contentsOf: "&#39;".utf8)
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func flag(_ on: Bool) -> String? { on ? "" : nil }
}
