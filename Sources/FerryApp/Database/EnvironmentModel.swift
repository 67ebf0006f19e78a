import Fluent
import Foundation

/// A Superset environment Ferry manages. Row of `environments`.
///
/// Invariant: `passwordSealed` holds the password encrypted by `SecretBox`, never plaintext.
/// Never serialised to clients: map it to `EnvironmentDTO`.
final class EnvironmentModel: Model, @unchecked Sendable {
    static let schema = "environments"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "url") var url: String
    @Field(key: "auth_provider") var authProvider: String
    @Field(key: "username") var username: String
    @Field(key: "password_sealed") var passwordSealed: String
    @Field(key: "verify_tls") var verifyTLS: Bool
    /// Requests Ferry may send this Superset at once (1...16); see `SupersetClientConfiguration.parallelRequests`.
    @Field(key: "parallel_requests") var parallelRequests: Int
    @Field(key: "stage") var stage: String
    @Field(key: "is_default") var isDefault: Bool
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

/// One asset seen on an environment at its last inventory sync. Row of `inventory_items`.
final class InventoryItemModel: Model, @unchecked Sendable {
    static let schema = "inventory_items"

    @ID(key: .id) var id: UUID?
    @Field(key: "environment_id") var environmentID: UUID
    @Field(key: "kind") var kind: String
    @Field(key: "superset_id") var supersetID: Int
    @OptionalField(key: "uuid") var uuid: String?
    @Field(key: "name") var name: String
    @OptionalField(key: "detail") var detail: String?
    @OptionalField(key: "parent") var parent: String?
    @Field(key: "owners") var owners: String
    /// The owners' Superset usernames, lower-cased, as `,alice,bob,` ("" when unknown).
    @Field(key: "owner_usernames") var ownerUsernames: String
    @OptionalField(key: "changed_on") var changedOn: Date?
    /// Lower-cased name, detail, parent and owners, for search.
    @Field(key: "search_text") var searchText: String
    @Field(key: "synced_at") var syncedAt: Date

    init() {}
}

/// The state of an environment's inventory sync. Row of `inventory_syncs`, keyed by environment.
final class InventorySyncModel: Model, @unchecked Sendable {
    static let schema = "inventory_syncs"

    @ID(custom: "environment_id", generatedBy: .user) var id: UUID?
    @Field(key: "status") var status: String
    @OptionalField(key: "started_at") var startedAt: Date?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    /// The finish time of the last sync that succeeded: what the inventory shows.
    @OptionalField(key: "succeeded_at") var succeededAt: Date?
    @OptionalField(key: "error") var error: String?
    @Field(key: "counts") var counts: String

    init() {}
}
