import Foundation

/// Roles and their grants; a form to add or change one: a matrix of permissions, each with its
/// scope picked from lists (all environments, some stages, some environments). The text form
/// (one grant per line) stays one click away, and is what the API and the CLI take.
enum RolesPage {
    struct Model: Equatable {
        var roles: [RoleDTO]
        /// The role being edited, nil to add one.
        var editing: RoleDTO?
        var form = Form()
        var permissions: [String]
        /// The environments a grant may be limited to (by id; named for people).
        var environments: [Environment] = []
        var error: String?
        var flash: String?

        struct Form: Equatable {
            var name = ""
            var description = ""
            /// One grant per line, in the text form.
            var grants = ""
        }

        struct Environment: Equatable {
            var id: UUID
            var name: String
            var stage: String
        }

        /// One permission's line of the matrix.
        struct Row: Equatable {
            var permission: Permission
            var granted = false
            var stages: Set<String> = []
            var environments: Set<UUID> = []
            var limited: Bool { !stages.isEmpty || !environments.isEmpty }
        }

        /// The stage tags a grant may name: the usual three and any an environment has.
        var stages: [String] {
            var seen = ["dev", "stage", "prod"]
            for e in environments where !seen.contains(e.stage) { seen.append(e.stage) }
            return seen
        }

        /// The form's grants as matrix rows, one per permission (in `Permission.allCases`
        /// order). A line that doesn't parse is left out here; the text form still shows it.
        var matrix: [Row] {
            let ids = Dictionary(environments.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
            var rows = Permission.allCases.map { Row(permission: $0) }
            for line in form.grants.split(whereSeparator: \.isNewline) {
                guard case .success(let grant) = Grant.parse(String(line), ids: ids),
                      let i = rows.firstIndex(where: { $0.permission == grant.permission }) else { continue }
                rows[i].granted = true
                rows[i].stages.formUnion(grant.stages)
                rows[i].environments.formUnion(grant.environments)
            }
            return rows
        }

        /// The grants a matrix form describes, in the text form: for each ticked permission
        /// (`g<i>`), its stages (`s<i>`) and environment ids (`e<i>`); none of either: all
        /// environments. `fields` is the form as sent, every value of every name.
        static func grants(fromMatrix fields: [String: [String]]) -> [String] {
            Permission.allCases.enumerated().compactMap { i, permission in
                guard fields["g\(i)"]?.contains("on") == true else { return nil }
                let stages = (fields["s\(i)"] ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let environments = (fields["e\(i)"] ?? []).compactMap { UUID(uuidString: $0.trimmingCharacters(in: .whitespaces)) }
                let scope = stages.map { "stage:\($0)" } + environments.map { "id:\($0.uuidString.lowercased())" }
                return scope.isEmpty ? permission.rawValue : permission.rawValue + "@" + scope.joined(separator: ",")
            }
        }
    }
}
