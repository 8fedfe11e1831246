"""One Group per staff role, so every environment has the same roles.

What each role may do is the table in neuroclinic/accounts/roles.py, not
database permissions; the names here must match Role's values.
"""

from django.db import migrations

ROLES = [
    "clinic_admin",
    "medical_director",
    "prescriber",
    "nurse",
    "front_desk",
    "tms_technician",
    "cs_custodian",
    "billing",
    "auditor",
]


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, backwards)]
