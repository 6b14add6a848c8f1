"""Online test: the database keeps only a hash of each test's token; a deadline per test; whether
the result may show the keys."""

import hashlib

from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    TestSession = apps.get_model("literacy", "TestSession")
    for session in TestSession.objects.all():
        session.token_hash = hashlib.sha256(session.token_hash.encode()).hexdigest()
        session.save(update_fields=["token_hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("literacy", "0003_item_revisions_estimate_unit"),
    ]

    operations = [
        migrations.RenameField(model_name="testsession", old_name="token", new_name="token_hash"),
        migrations.RunPython(hash_tokens, migrations.RunPython.noop),
        migrations.AddField(
            model_name="testsession",
            name="deadline",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="testsession",
            name="review",
            field=models.BooleanField(default=True),
        ),
    ]
