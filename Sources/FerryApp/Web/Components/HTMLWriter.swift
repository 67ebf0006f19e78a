/// Writes a tree of `HTMLNode`s as UTF-8 into one growing buffer: one pass, no intermediate
/// strings per element. Pure: the output depends on the nodes and `csrfToken` only.
struct HTMLWriter {
    /// The value of every `.csrfField`: the token of the request the page is written for.
    let csrfToken: String
    private(set) var bytes: [UInt8] = []

    init(csrfToken: String, capacity: Int = 32 * 1024) {
        self.csrfToken = H.escape(csrfToken)
        bytes.reserveCapacity(capacity)
    }

    /// Markup Ferry wrote itself (the document's head in `Layout`), copied as it is: never text
    /// from a model, which goes through `H.text`.
    mutating func writeMarkup(_ s: String) { bytes.append(contentsOf: s.utf8) }

    private mutating func write(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func write(_ node: HTMLNode) {
        switch node {
        case .raw(let s):
            write(s)
        case .group(let nodes):
            for n in nodes { write(n) }
        case .element(let name, let attributes, let children):
            open(name, attributes)
            bytes.append(0x3E) // >
            for n in children { write(n) }
            write("</"); write(name); bytes.append(0x3E)
        case .void(let name, let attributes):
            open(name, attributes)
            write("/>")
        case .csrfField:
            write("<input type=\"hidden\" name=\"\(AuthMiddleware.csrfField)\" value=\"")
            write(csrfToken)
            write("\"/>")
        }
    }

    private mutating func open(_ name: String, _ attributes: [HTMLAttribute]) {
        bytes.append(0x3C) // <
        write(name)
        for a in attributes {
            bytes.append(0x20)
            write(a.name)
            if let value = a.value {
                write("=\"")
                write(value)
                bytes.append(0x22)
            }
        }
    }

}
