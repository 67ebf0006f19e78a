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
            /// Named by a grant but gone from Ferry: shown (ticked) so that saving keeps it.
            var missing = false
        }

        /// One permission's line of the matrix.
        struct Row: Equatable {
            var permission: Permission
            var granted = false
            var stages: Set<String> = []
            var environments: Set<UUID> = []
            var limited: Bool { !stages.isEmpty || !environments.isEmpty }

            /// The row in the text form (`Grant.text`, environments by id), when granted.
            var text: String? {
                guard granted else { return nil }
                return Grant(permission, environments: environments.sorted { $0.uuidString < $1.uuidString }, stages: Model.ordered(stages)).text(names: [:])
            }
        }

        /// Stages in the usual order (dev, stage, prod), then any other alphabetically.
        static func ordered(_ stages: Set<String>) -> [String] {
            let usual = ["dev", "stage", "prod"]
            return stages.sorted { a, b in
                let (i, j) = (usual.firstIndex(of: a) ?? usual.count, usual.firstIndex(of: b) ?? usual.count)
                return i != j ? i < j : a < b
            }
        }

        /// The stage tags a grant may name: the usual three, any an environment has, and any
        /// the form's grants name (so that a stage no environment has yet stays ticked).
        var stages: [String] {
            var seen = ["dev", "stage", "prod"]
            for e in environments where !seen.contains(e.stage) { seen.append(e.stage) }
            for row in matrix { for stage in row.stages.sorted() where !seen.contains(stage) { seen.append(stage) } }
            return seen
        }

        /// The environments a scope may pick: Ferry's, then any the form's grants name by an id
        /// Ferry no longer has (`missing`).
        var scopeEnvironments: [Environment] {
            let known = Set(environments.map(\.id))
            let named = Set(matrix.flatMap(\.environments)).subtracting(known)
            return environments + named.sorted { $0.uuidString < $1.uuidString }.map { Environment(id: $0, name: String($0.uuidString.lowercased().prefix(8)), stage: "", missing: true) }
        }

        /// The form's grants as matrix rows, one per permission (in `Permission.allCases`
        /// order). A line that doesn't parse is left out here; the text form still shows it.
        var matrix: [Row] { Self.matrix(grants: form.grants, environments: environments) }

        /// `grants` (the text form) as matrix rows. A permission granted without a limit on one
        /// line is unlimited, whatever other lines limit it to (as access is decided).
        static func matrix(grants: String, environments: [Environment]) -> [Row] {
            let ids = Dictionary(environments.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
            var rows = Permission.allCases.map { Row(permission: $0) }
            var everywhere = Set<Int>()
            for line in grants.split(whereSeparator: \.isNewline) {
                guard case .success(let grant) = Grant.parse(String(line), ids: ids),
                      let i = rows.firstIndex(where: { $0.permission == grant.permission }) else { continue }
                rows[i].granted = true
                if grant.isUnlimited { everywhere.insert(i) }
                rows[i].stages.formUnion(grant.stages)
                rows[i].environments.formUnion(grant.environments)
            }
            for i in everywhere {
                rows[i].stages = []
                rows[i].environments = []
            }
            return rows
        }

        /// A stage as the matrix may send it: what the text form accepts in one `stage:` scope
        /// (no `,` or `@`, which would start another scope or grant; no spaces or control
        /// characters), at most 64 characters.
        static func isStageTag(_ text: String) -> Bool {
            !text.isEmpty && text.count <= 64
                && !text.unicodeScalars.contains { $0 == "," || $0 == "@" || CharacterSet.whitespacesAndNewlines.contains($0) || CharacterSet.controlCharacters.contains($0) }
        }

        /// Stage values a matrix form sends that aren't stage tags (the page never offers one):
        /// the save is refused rather than the scope dropped, which would widen the grant.
        static func invalidStages(_ fields: [String: [String]]) -> [String] {
            Permission.allCases.indices.flatMap { i in
                (fields["s\(i)"] ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !isStageTag($0) }
            }
        }

        /// The matrix a form describes: for each permission, whether it is ticked (`g<i>`), its
        /// stages (`s<i>`) and environment ids (`e<i>`); `fields` is the form as sent, every value
        /// of every name. A value that is neither a stage tag nor an id is ignored.
        static func rows(fromMatrix fields: [String: [String]]) -> [Row] {
            Permission.allCases.enumerated().map { i, permission in
                let granted = fields["g\(i)"]?.contains("on") == true
                let stages = (fields["s\(i)"] ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter(isStageTag)
                let environments = (fields["e\(i)"] ?? []).compactMap { UUID(uuidString: $0.trimmingCharacters(in: .whitespaces)) }
                return Row(permission: permission, granted: granted, stages: granted ? Set(stages) : [], environments: granted ? Set(environments) : [])
            }
        }

        /// The grants a matrix form describes, in the text form (none picked in a ticked row:
        /// all environments).
        static func grants(fromMatrix fields: [String: [String]]) -> [String] {
            rows(fromMatrix: fields).compactMap(\.text)
        }

        /// The grants a role form means. The matrix's Save sends both editors; the text wins
        /// when only it was changed from `original` (what the page showed), the matrix
        /// otherwise. Both changed: nil (the caller asks which one to keep).
        static func grants(fields: [String: [String]], text: String?, original: String?, fromMatrix: Bool,
                           environments: [Environment]) -> [String]? {
            let lines = { (t: String) in t.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            guard fromMatrix else { return lines(text ?? "") }
            guard let original, let text, lines(text) != lines(original) else { return grants(fromMatrix: fields) }
            let before = matrix(grants: original, environments: environments).filter(\.granted)
            let after = rows(fromMatrix: fields).filter(\.granted)
            return before == after ? lines(text) : nil
        }
    }
}
