from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("literacy", "0002_item_revisions"),
    ]

    operations = [
        migrations.AddField(
            model_name="waveestimate",
            name="unit",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
    ]
