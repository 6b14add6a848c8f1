"""Responsible units belong to a region (the top org unit of the plans naming them), so two cities
can both have 市教育局. Existing departments get the region of the plans that name them, or
Changzhou (320400) when no plan names them yet."""

import django.db.models.deletion
from django.db import migrations, models


def assign_regions(apps, schema_editor):
    Department = apps.get_model("core", "Department")
    OrgUnit = apps.get_model("core", "OrgUnit")
    SectionResponsibility = apps.get_model("plans", "SectionResponsibility")
    TargetResponsibility = apps.get_model("plans", "TargetResponsibility")
    changzhou = OrgUnit.objects.filter(code="320400").first()
    for dept in Department.objects.filter(region__isnull=True):
        region_id = (
            SectionResponsibility.objects.filter(department=dept)
            .values_list("section__programme__plan__region_id", flat=True)
            .first()
            or TargetResponsibility.objects.filter(department=dept)
            .values_list("target__plan__region_id", flat=True)
            .first()
        )
        if region_id is None and changzhou is not None:
            region_id = changzhou.pk
        if region_id is not None:
            dept.region_id = region_id
            dept.save(update_fields=["region"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_denominators"),
        ("plans", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orgunit",
            name="level",
            field=models.CharField(
                choices=[
                    ("province", "省"),
                    ("city", "市"),
                    ("district", "辖市(区)"),
                    ("town", "镇(街道)"),
                    ("village", "村(社区)"),
                ],
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="department",
            name="region",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="departments",
                to="core.orgunit",
            ),
        ),
        migrations.AlterField(model_name="department", name="code", field=models.CharField(max_length=40)),
        migrations.AlterField(model_name="department", name="name_zh", field=models.CharField(max_length=100)),
        migrations.RunPython(assign_regions, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="department",
            constraint=models.UniqueConstraint(fields=("region", "code"), name="department_code_per_region"),
        ),
        migrations.AddConstraint(
            model_name="department",
            constraint=models.UniqueConstraint(fields=("region", "name_zh"), name="department_name_per_region"),
        ),
    ]
