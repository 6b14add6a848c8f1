# The plan files' notes were written in English: they become note_en, beside a new note_zh.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("plans", "0002_flow_label"),
    ]

    operations = [
        migrations.RenameField(model_name="target", old_name="note", new_name="note_en"),
        migrations.AddField(model_name="target", name="note_zh", field=models.TextField(blank=True)),
        migrations.AlterField(
            model_name="indicator",
            name="aggregation",
            field=models.CharField(
                choices=[
                    ("sum", "求和"),
                    ("population_weighted_mean", "按人口加权平均"),
                    ("unit_mean", "按单位平均"),
                    ("unit_min", "取各单位最小值"),
                ],
                max_length=30,
            ),
        ),
    ]
