"""Prints the fields one installed Apache Superset's importers accept, as JSON.

Run with a Superset venv's python: `.tools/venv-5.0.0/bin/python scripts/lib/import_fields.py OUT.json`.
Reads the marshmallow schemas the v1 importers validate with (ImportV1DatabaseSchema,
ImportV1DatasetSchema with its column and metric schemas, ImportV1ChartSchema,
ImportV1DashboardSchema) and writes {"version": "5.0.0", "fields": {"database": [...], ...}}.
The test suite compares it with SupersetKit's ImportSchema table (the table's source).
"""
import json
import os
import sys
import tempfile
from importlib.metadata import version

out = sys.argv[1]
work = tempfile.mkdtemp(prefix="ferry-import-fields-")
config = os.path.join(work, "superset_config.py")
with open(config, "w") as f:
    f.write('SECRET_KEY = "ferry-import-fields-0123456789abcdef0123456789"\n')
    f.write(f'SQLALCHEMY_DATABASE_URI = "sqlite:///{work}/meta.db"\n')
os.environ["SUPERSET_CONFIG_PATH"] = config

from superset.app import create_app  # noqa: E402

app = create_app()
with app.app_context():
    from superset.charts.schemas import ImportV1ChartSchema
    from superset.dashboards.schemas import ImportV1DashboardSchema
    from superset.databases.schemas import ImportV1DatabaseSchema
    from superset.datasets.schemas import ImportV1ColumnSchema, ImportV1DatasetSchema, ImportV1MetricSchema

    schemas = {
        "database": ImportV1DatabaseSchema, "dataset": ImportV1DatasetSchema, "column": ImportV1ColumnSchema,
        "metric": ImportV1MetricSchema, "chart": ImportV1ChartSchema, "dashboard": ImportV1DashboardSchema,
    }
    # The key a file carries is the field's data_key when it has one (allow_csv_upload reads allow_file_upload).
    fields = {part: sorted(f.data_key or name for name, f in schema().fields.items()) for part, schema in schemas.items()}
with open(out, "w") as f:
    json.dump({"version": version("apache-superset"), "fields": fields}, f, indent=1, sort_keys=True)
