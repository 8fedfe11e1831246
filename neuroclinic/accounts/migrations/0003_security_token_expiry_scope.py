from datetime import timedelta

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

EXISTING_TOKEN_DAYS = 90


def expire_existing_tokens(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Tokens made before expiry existed expire 90 days after they were made."""
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True):
        token.expires_at = token.created_at + timedelta(days=EXISTING_TOKEN_DAYS)
        token.save(update_fields=["expires_at"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="scope",
            field=models.CharField(
                choices=[
                    ("full", "Everything the user's role allows"),
                    ("vitals", "Send vital signs from a monitor, nothing else"),
                ],
                default="full",
                max_length=20,
            ),
        ),
        migrations.RunPython(expire_existing_tokens, migrations.RunPython.noop),
    ]
