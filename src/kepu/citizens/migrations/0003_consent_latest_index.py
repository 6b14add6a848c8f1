"""A covering index for "the latest consent per purpose" on PostgreSQL: segments with a consent rule
(kepu.outreach.segments) look it up once per candidate citizen, ordered by (at, id) descending as the
selectors do; with `granted` included it is an index-only lookup, no sort and no heap visit.
PostgreSQL only, like 0002 (SQLite has no INCLUDE)."""

from django.db import migrations

INDEX = "consent_latest_cover"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON citizens_consent (citizen_id, purpose, at DESC, id DESC) "
            "INCLUDE (granted)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("citizens", "0002_segment_index")]

    operations = [migrations.RunPython(create, drop)]
