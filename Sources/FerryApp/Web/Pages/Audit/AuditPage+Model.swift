import Foundation

/// The audit log, newest first, with filters and export links.
enum AuditPage {
    struct Model: Equatable {
        var events: [AuditDTO]
        var total: Int
        var filter: [String: String]
        /// The API address of this filter's export, without the format.
        var exportQuery: [String: String]
    }
}
