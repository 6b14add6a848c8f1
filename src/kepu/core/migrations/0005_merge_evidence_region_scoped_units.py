from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0004_evidence"), ("core", "0004_region_scoped_units")]
    operations = []
