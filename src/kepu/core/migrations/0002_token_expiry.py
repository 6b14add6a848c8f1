import datetime as dt

from django.db import migrations, models
from django.utils.crypto import salted_hmac


def _fill(apps, schema_editor):
    """Existing tokens keep working for the default lifetime under the user's current password."""
    ApiToken = apps.get_model("core", "ApiToken")
    for token in ApiToken.objects.select_related("user"):
        token.expires_at = token.created_at + dt.timedelta(days=90)
        # Same value as AbstractBaseUser.get_session_auth_hash() (historical models lack the method).
        token.password_mark = salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            token.user.password, algorithm="sha256",
        ).hexdigest()
        token.save(update_fields=["expires_at", "password_mark"])


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.AlterModelOptions(name="apitoken", options={"ordering": ["-created_at", "-id"]}),
        migrations.AddField(model_name="apitoken", name="expires_at", field=models.DateTimeField(null=True)),
        migrations.AddField(
            model_name="apitoken", name="password_mark", field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name="apitoken", name="revoked_at", field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.AlterField(model_name="apitoken", name="expires_at", field=models.DateTimeField()),
    ]
