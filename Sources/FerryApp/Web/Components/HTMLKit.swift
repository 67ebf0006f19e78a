import Plot

/// The node type of every page body. Pages and components build these; `Layout` renders them.
typealias HTMLNode = Node<HTML.BodyContext>

/// Ferry's small HTML vocabulary on top of Plot. Attribute values are escaped here (Plot leaves
/// them raw), so a Superset asset named `"><script>` renders as text.
enum H {
    /// A POST form gets the hidden CSRF input (`CSRFField`) as its first child; the token is
    /// filled in from the render environment, so views stay pure functions of their models.
    static func el(_ name: String, _ attributes: [(String, String?)] = [], _ children: [HTMLNode] = []) -> HTMLNode {
        if name == "form", attributes.contains(where: { $0.0 == "method" && $0.1?.lowercased() == "post" }) {
            return .element(named: name, nodes: attrs(attributes) + [.component(CSRFField())] + children)
        }
        return .element(named: name, nodes: attrs(attributes) + children)
    }

    static func el(_ name: String, _ attributes: [(String, String?)] = [], text: String) -> HTMLNode {
        el(name, attributes, [H.text(text)])
    }

    /// A void element (`input`, `meta`, `link`).
    static func void(_ name: String, _ attributes: [(String, String?)]) -> HTMLNode {
        .selfClosedElement(named: name, attributes: attributes.compactMap { name, value -> Attribute<HTML.BodyContext>? in
            guard let value else { return nil }
            return Attribute(name: name, value: escape(value), ignoreIfValueIsEmpty: false)
        })
    }

    /// Text, escaped here in one pass over its bytes (`&`, `<`, `>`). Plot's `.text` walks
    /// characters and keeps entity-like runs (`&lt;` in a name stayed `&lt;` and showed as `<`).
    static func text(_ s: String) -> HTMLNode { .raw(escape(s, quotes: false)) }

    static func group(_ nodes: [HTMLNode]) -> HTMLNode { .group(nodes) }

    static func a(_ href: String, _ text: String, _ attributes: [(String, String?)] = []) -> HTMLNode {
        el("a", [("href", href)] + attributes, text: text)
    }

    /// Attributes with a nil value are left out; a value of "" renders as a bare boolean attribute.
    static func attrs(_ list: [(String, String?)]) -> [HTMLNode] {
        list.compactMap { name, value in
            guard let value else { return nil }
            return value.isEmpty ? .attribute(named: name) : .attribute(named: name, value: escape(value))
        }
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
