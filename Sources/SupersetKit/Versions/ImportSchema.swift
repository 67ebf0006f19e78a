import Foundation

/// The parts of a bundle file an importer validates field by field.
public enum ImportPart: String, Sendable, CaseIterable, Codable {
    case database, dataset, column, metric, chart, dashboard

    /// The part of a whole asset file of this kind.
    public init(_ kind: AssetKind) {
        switch kind {
        case .database: self = .database
        case .dataset: self = .dataset
        case .chart: self = .chart
        case .dashboard: self = .dashboard
        }
    }
}

/// The fields one Superset release series' importer accepts, per part of a bundle file.
///
/// Source: the marshmallow schemas of each release, `ImportV1DatabaseSchema`
/// (superset/databases/schemas.py), `ImportV1DatasetSchema`, `ImportV1ColumnSchema` and
/// `ImportV1MetricSchema` (superset/datasets/schemas.py), `ImportV1ChartSchema`
/// (superset/charts/schemas.py) and `ImportV1DashboardSchema` (superset/dashboards/schemas.py),
/// read from apache-superset 4.1.4, 5.0.0 and 6.1.0 by `scripts/lib/import_fields.py`. The test
/// suite runs that script on each installed release and fails when this table differs from it.
/// An importer answers 422 "Unknown field." for any other key, and writes nothing.
public struct ImportSchema: Sendable, Equatable {
    /// The first release of the series ("5.0.0"): the versions this schema stands for start here.
    public let version: SupersetVersion
    public let fields: [ImportPart: Set<String>]

    public func accepts(_ field: String, in part: ImportPart) -> Bool {
        fields[part]?.contains(field) == true || Self.aliases[part]?.contains(field) == true
    }

    /// Keys every known importer renames before validating (a `pre_load` hook, invisible in the
    /// schema's fields): exports of 4.1 to 6.1 write `allow_file_upload`, which
    /// `ImportV1DatabaseSchema.fix_allow_csv_upload` turns into `allow_csv_upload`.
    public static let aliases: [ImportPart: Set<String>] = [.database: ["allow_file_upload"]]

    /// 4.1.x: the oldest release series Ferry translates to or from.
    public static let v4_1 = ImportSchema(version: SupersetVersion(4, 1), fields: [
        .database: ["allow_csv_upload", "allow_ctas", "allow_cvas", "allow_dml", "allow_run_async", "cache_timeout", "database_name",
                    "expose_in_sqllab", "external_url", "extra", "is_managed_externally", "password", "sqlalchemy_uri", "ssh_tunnel",
                    "uuid", "version"],
        .dataset: ["always_filter_main_dttm", "cache_timeout", "catalog", "columns", "data", "database_uuid", "default_endpoint",
                   "description", "external_url", "extra", "fetch_values_predicate", "filter_select_enabled", "is_managed_externally",
                   "main_dttm_col", "metrics", "normalize_columns", "offset", "params", "schema", "sql", "table_name",
                   "template_params", "uuid", "version"],
        .column: ["advanced_data_type", "column_name", "description", "expression", "extra", "filterable", "groupby", "is_active",
                  "is_dttm", "python_date_format", "type", "verbose_name"],
        .metric: ["currency", "d3format", "description", "expression", "extra", "metric_name", "metric_type", "verbose_name",
                  "warning_text"],
        .chart: ["cache_timeout", "certification_details", "certified_by", "dataset_uuid", "description", "external_url",
                 "is_managed_externally", "params", "query_context", "slice_name", "uuid", "version", "viz_type"],
        .dashboard: ["certification_details", "certified_by", "css", "dashboard_title", "description", "external_url",
                     "is_managed_externally", "metadata", "position", "published", "slug", "uuid", "version"],
    ])

    /// 5.0.x: 4.1 plus `impersonate_user` on databases.
    public static let v5_0 = v4_1.adding(SupersetVersion(5, 0), [.database: ["impersonate_user"]])

    /// 6.1.x: 5.0 plus theme, tags, folders, currency codes and datetime formats.
    public static let v6_1 = v5_0.adding(SupersetVersion(6, 1), [
        .database: ["configuration_method", "encrypted_extra", "masked_encrypted_extra"],
        .dataset: ["currency_code_column", "folders", "data_file", "source_db_engine"],
        .column: ["datetime_format"],
        .chart: ["tags"],
        .dashboard: ["tags", "theme_id", "theme_uuid"],
    ])

    /// Every series Ferry knows, oldest first.
    public static let known: [ImportSchema] = [v4_1, v5_0, v6_1]

    /// The schema of the newest known series at or before `version`, or why there is none.
    /// A version between two known series (6.0.x) is translated as for the older one: its
    /// importer accepts at least that one's fields, so nothing it would refuse is sent.
    public static func resolve(_ version: SupersetVersion?) -> Resolution {
        guard let version else { return .unknown }
        guard let oldest = known.first, let newest = known.last else { return .unknown }
        if version < oldest.version { return .tooOld(version) }
        if (version.major, version.minor) > (newest.version.major, newest.version.minor) { return .tooNew(version) }
        let schema = known.last { $0.version <= version } ?? oldest
        return .known(schema, exact: (schema.version.major, schema.version.minor) == (version.major, version.minor))
    }

    public enum Resolution: Sendable, Equatable {
        case known(ImportSchema, exact: Bool)
        case tooOld(SupersetVersion)
        case tooNew(SupersetVersion)
        case unknown

        public var schema: ImportSchema? { if case .known(let s, _) = self { return s } else { return nil } }
    }

    /// "4.1 to 6.1": the range Ferry knows, for messages.
    public static var knownRange: String { "\(known.first!.version.series) to \(known.last!.version.series)" }

    func adding(_ version: SupersetVersion, _ extra: [ImportPart: Set<String>]) -> ImportSchema {
        ImportSchema(version: version, fields: fields.merging(extra) { $0.union($1) })
    }
}
