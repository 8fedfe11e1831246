"""audit: the tables as its migrations 0001-0004 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('audit', '0001_initial'), ('audit', '0002_append_only_triggers'), ('audit', '0003_chain_head'), ('audit', '0004_integrity_seals')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='AuditEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('seq', models.PositiveBigIntegerField(editable=False, unique=True)),
                    ('occurred_at', models.DateTimeField(db_index=True)),
                    ('action', models.CharField(db_index=True, max_length=64)),
                    ('outcome', models.CharField(choices=[('success', 'Success'), ('denied', 'Denied'), ('failure', 'Failure')], default='success', max_length=10)),
                    ('actor_username', models.CharField(blank=True, max_length=150)),
                    ('actor_roles', models.CharField(blank=True, max_length=200)),
                    ('subject_type', models.CharField(blank=True, max_length=64)),
                    ('subject_id', models.CharField(blank=True, max_length=64)),
                    ('source_ip', models.CharField(blank=True, max_length=45)),
                    ('data', models.JSONField(default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder)),
                    ('prev_hash', models.CharField(max_length=64)),
                    ('hash', models.CharField(max_length=64, unique=True)),
                    ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ],
                options={
                    'ordering': ['seq'],
                    'indexes': [models.Index(fields=['patient', 'occurred_at'], name='audit_patient_time'), models.Index(fields=['actor', 'occurred_at'], name='audit_actor_time')],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='ChainHead',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=64, unique=True)),
                    ('seq', models.PositiveBigIntegerField(default=0)),
                    ('hash', models.CharField(max_length=64)),
                ],
                options={
                    'ordering': ['name', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Seal',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('model', models.CharField(max_length=100)),
                    ('object_id', models.CharField(max_length=64)),
                    ('content_hash', models.CharField(blank=True, max_length=64)),
                    ('fields', models.TextField()),
                    ('organization_id', models.BigIntegerField(blank=True, null=True)),
                    ('sealed_at', models.DateTimeField()),
                    ('mac', models.CharField(max_length=64)),
                ],
                options={
                    'ordering': ['id'],
                    'indexes': [models.Index(fields=['model', 'object_id', 'id'], name='audit_seal_object')],
                    'constraints': [],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.audit.migrations',
        ['0002_append_only_triggers', '0003_chain_head', '0004_integrity_seals'],
    )
