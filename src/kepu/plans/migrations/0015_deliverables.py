import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_evidence"),
        ("plans", "0013_progress_evidence"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Deliverable",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=64)),
                ("name_zh", models.CharField(max_length=300)),
                ("name_en", models.CharField(max_length=300)),
                ("due_date", models.DateField(blank=True, null=True)),
                ("quote", models.TextField()),
                ("note_zh", models.TextField(blank=True)),
                ("note_en", models.TextField(blank=True)),
                ("order", models.PositiveSmallIntegerField(default=0)),
                ("active", models.BooleanField(default=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("not_started", "未启动"),
                            ("in_progress", "推进中"),
                            ("submitted", "待验收"),
                            ("done", "已完成"),
                        ],
                        default="not_started",
                        max_length=12,
                    ),
                ),
                ("progress_note", models.TextField(blank=True)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                ("signed_off_at", models.DateTimeField(blank=True, null=True)),
                ("review_comment", models.TextField(blank=True)),
                (
                    "evidence",
                    models.ManyToManyField(blank=True, related_name="deliverables", to="core.evidencefile"),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="deliverables", to="core.department"
                    ),
                ),
                (
                    "plan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="deliverables", to="plans.plan"
                    ),
                ),
                (
                    "section",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="deliverables",
                        to="plans.section",
                    ),
                ),
                (
                    "signed_off_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "supporting",
                    models.ManyToManyField(blank=True, related_name="supported_deliverables", to="core.department"),
                ),
            ],
            options={
                "ordering": ["plan", "order", "code"],
                "constraints": [models.UniqueConstraint(fields=("plan", "code"), name="deliverable_code_unique")],
            },
        ),
        migrations.CreateModel(
            name="Milestone",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name_zh", models.CharField(max_length=300)),
                ("name_en", models.CharField(blank=True, max_length=300)),
                ("due_date", models.DateField(blank=True, null=True)),
                ("done_on", models.DateField(blank=True, null=True)),
                ("from_plan", models.BooleanField(default=False)),
                ("order", models.PositiveSmallIntegerField(default=0)),
                (
                    "deliverable",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="milestones", to="plans.deliverable"
                    ),
                ),
            ],
            options={"ordering": ["deliverable", "order", "id"]},
        ),
    ]
