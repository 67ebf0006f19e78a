import Foundation

/// The promotion wizard's first step: pick the environments, the dashboards and the scope.
/// Nothing is typed that could be picked: environments from those the user may plan with,
/// dashboards from the source's inventory (searched, ticked), schema renames from the schemas
/// of the two environments' datasets (a schema no dataset uses yet may still be typed). Submitting makes a plan (a dry
/// run); the plan page follows it.
enum PromotePage {
    struct Model: Equatable {
        /// The environments the user may plan from or to, by name (value: the id).
        var environments: [Environment]
        var form: Form
        /// The picked dashboards found in the source's inventory, in the order picked.
        var picked: [Dashboard] = []
        /// Picked ids the source's inventory doesn't have (deleted since, or never synced).
        var unknownPicks: [Int] = []
        /// The source's dashboards matching `form.search`, not yet picked (one page).
        var results: [Dashboard] = []
        /// How many dashboards match in all (more than shown: search narrower).
        var resultsTotal = 0
        /// The user may plan from the source but not read its inventory: nothing to pick here.
        var inventoryUnreadable = false
        /// The schemas of the source's and the target's datasets (the inventory's), for the
        /// schema renames picked from lists.
        var sourceSchemas: [String] = []
        var targetSchemas: [String] = []
        var errors: [String: String]
        var formError: String?

        struct Environment: Equatable {
            var id: UUID
            var name: String
            var stage: String
        }

        struct Dashboard: Equatable {
            var id: Int
            var title: String
            var slug: String?
            var owners: [String]
            var changedOn: Date?
        }

        struct Form: Equatable {
            /// Environment ids (names are accepted from links and old bookmarks).
            var source = ""
            var target = ""
            /// Superset ids of the source's dashboards, as picked.
            var dashboards: [Int] = []
            /// What came as a pick but isn't an id (a link typed by hand): left out, and said so.
            var invalidPicks: [String] = []
            /// More than `maxPicked` dashboards came: the rest were left out, and said so.
            var tooManyPicks = false
            /// Words the source's dashboards are searched for, to pick from.
            var search = ""
            var scope = "dashboards"
            /// Renames picked from the lists: a source schema to a target schema.
            var schemaPicks: [String: String] = [:]
            /// Other renames, typed (schemas no dataset uses yet): `src=dst` pairs, comma-separated.
            var schemas = ""
            /// Import as is into a Superset release Ferry doesn't know.
            var acceptUnknownVersion = false
        }

        /// How many results the wizard lists at once.
        static let pageSize = 50
        /// At most this many dashboards are picked for one plan.
        static let maxPicked = 500
        /// At most this many schemas are listed on each side.
        static let maxSchemas = 50

        var targetEnvironment: Environment? {
            environments.first { $0.id.uuidString.lowercased() == form.target.lowercased() || $0.name == form.target }
        }

        var sourceEnvironment: Environment? {
            environments.first { $0.id.uuidString.lowercased() == form.source.lowercased() || $0.name == form.source }
        }
    }
}
