"""A covering index for segment counts on PostgreSQL (kepu.outreach.segments; bench/bench_outreach.py).

Segment rules filter on district and age band first. With the key groups, elder mode, occupation and
id included, PostgreSQL answers the usual segment (district × key group × age band, minus those who
engaged) with an index-only scan. SQLite has no INCLUDE (Django would warn, models.W040), so this is
created on PostgreSQL only and kept out of the model's Meta; the model's own (district, age_band)
index serves SQLite."""

from django.db import migrations

INDEX = "citizen_segment_cover"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON citizens_citizen (district_id, age_band) "
            "INCLUDE (id, key_groups, elder_mode, occupation)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("citizens", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
