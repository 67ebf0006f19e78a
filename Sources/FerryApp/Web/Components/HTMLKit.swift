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
        el(name, attributes, [.text(text)])
    }

    /// A void element (`input`, `meta`, `link`).
    static func void(_ name: String, _ attributes: [(String, String?)]) -> HTMLNode {
        .selfClosedElement(named: name, attributes: attributes.compactMap { name, value -> Attribute<HTML.BodyContext>? in
            guard let value else { return nil }
            return Attribute(name: name, value: escape(value), ignoreIfValueIsEmpty: false)
        })
    }

    static func text(_ s: String) -> HTMLNode { .text(s) }

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

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func flag(_ on: Bool) -> String? { on ? "" : nil }
}
