import Foundation

/// Bounds on what one audit event may hold. Strangers choose much of it (the username typed at
/// sign-in, the address a proxy header claims, details echoing their input), so every text
/// field is cut to a fixed length before it is stored.
extension AuditEntry {
    /// Actor, address, action, target and environment: at most this many characters.
    static let shortTextLimit = 256
    /// The detail: at most this many characters.
    static let detailLimit = 1024
    /// Ends a shortened field, so a reader sees that it was cut.
    static let cutMarker = "…"

    /// This event with each text field cut to its limit (counted in Unicode scalars, so a single
    /// character built of thousands of combining marks is cut too).
    var capped: AuditEntry {
        var e = self
        e.actor = Self.cap(actor, Self.shortTextLimit)
        e.address = address.map { Self.cap($0, Self.shortTextLimit) }
        e.action = Self.cap(action, Self.shortTextLimit)
        e.target = target.map { Self.cap($0, Self.shortTextLimit) }
        e.environment = environment.map { Self.cap($0, Self.shortTextLimit) }
        e.detail = detail.map { Self.cap($0, Self.detailLimit) }
        return e
    }

    /// `text` if it has at most `limit` scalars; otherwise its first `limit - 1` and the marker.
    static func cap(_ text: String, _ limit: Int) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars.prefix(limit - 1))
        return String(kept) + cutMarker
    }
}
