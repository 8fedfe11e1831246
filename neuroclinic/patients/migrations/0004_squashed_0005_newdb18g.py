"""patients: the tables as its migrations 0004-0005 leave them, for a new database (written by scripts/squash_migrations.py)."""

from django.db import migrations, models

from neuroclinic.audit.squashed import replayed


class Migration(migrations.Migration):

    replaces = [('patients', '0004_tamper15d_lists_append_only'), ('patients', '0005_bill12f_specialist_role')]

    dependencies = [
        ('audit', '0001_squashed_0004_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        migrations.AlterField(
            model_name='careteamprovider',
            name='role',
            field=models.CharField(choices=[('referring', 'Referring provider'), ('therapist', 'Therapist'), ('primary_care', 'Primary care'), ('specialist', 'Specialist asked for clearance')], max_length=20),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.patients.migrations',
        ['0004_tamper15d_lists_append_only'],
    )
