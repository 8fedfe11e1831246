"""interop: the tables as its migrations 0001-0003 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('interop', '0001_initial'), ('interop', '0002_interop_hl7_messages'), ('interop', '0003_fhirimp13f_imported_observations')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('audit', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
        ('infusions', '0001_squashed_0008_newdb18g'),
        ('patients', '0004_squashed_0005_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='BulkExport',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('request_url', models.CharField(max_length=500)),
                    ('level', models.CharField(choices=[('system', 'System'), ('group', "Group (the clinic's patients)"), ('patient', 'All patients')], max_length=8)),
                    ('resource_types', models.JSONField(help_text='FHIR resource types, in order.')),
                    ('since', models.DateTimeField(blank=True, null=True)),
                    ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=10)),
                    ('progress', models.CharField(blank=True, max_length=100)),
                    ('requested_at', models.DateTimeField()),
                    ('started_at', models.DateTimeField(blank=True, null=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('expires_at', models.DateTimeField(blank=True, null=True)),
                    ('error', models.CharField(blank=True, max_length=300)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['-requested_at', '-id'],
                    'indexes': [models.Index(fields=['status', 'expires_at'], name='export_expiry')],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='BulkExportFile',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('resource_type', models.CharField(max_length=40)),
                    ('sequence', models.PositiveIntegerField()),
                    ('count', models.PositiveIntegerField()),
                    ('content', models.TextField(help_text='NDJSON: one resource per line.')),
                    ('export', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='files', to='interop.bulkexport')),
                ],
                options={
                    'ordering': ['export', 'sequence'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('export', 'sequence'), name='export_file_sequence')],
                },
            ),
            migrations.CreateModel(
                name='Hl7Message',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('received_at', models.DateTimeField(db_index=True)),
                    ('raw', models.TextField()),
                    ('control_id', models.CharField(blank=True, max_length=50)),
                    ('device_key', models.CharField(blank=True, max_length=64)),
                    ('outcome', models.CharField(choices=[('AA', 'Accepted'), ('AE', 'Error'), ('AR', 'Rejected')], max_length=2)),
                    ('reason', models.CharField(blank=True, max_length=300)),
                    ('session', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='infusions.infusionsession')),
                ],
                options={
                    'ordering': ['-received_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='ImportedObservation',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('loinc_code', models.CharField(max_length=20)),
                    ('name', models.CharField(max_length=100)),
                    ('value', models.DecimalField(decimal_places=3, max_digits=10)),
                    ('unit', models.CharField(help_text='UCUM', max_length=20)),
                    ('effective_at', models.DateTimeField()),
                    ('imported_at', models.DateTimeField()),
                    ('imported_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ],
                options={
                    'ordering': ['patient', 'effective_at', 'loinc_code', 'id'],
                    'constraints': [models.UniqueConstraint(fields=('patient', 'loinc_code', 'effective_at'), name='imported_observation_once')],
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='SmartAccessToken',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('token_hash', models.CharField(max_length=64, unique=True)),
                    ('scopes', models.JSONField()),
                    ('issued_at', models.DateTimeField()),
                    ('expires_at', models.DateTimeField(db_index=True)),
                    ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tokens', to='interop.smartclient')),
                ],
                options={
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='SmartAssertion',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('jti', models.CharField(max_length=200)),
                    ('expires_at', models.DateTimeField(db_index=True)),
                    ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='interop.smartclient')),
                ],
                options={
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('client', 'jti'), name='smart_jti_once')],
                },
            ),
            migrations.CreateModel(
                name='SmartClient',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('client_id', models.CharField(max_length=100, unique=True)),
                    ('name', models.CharField(max_length=100)),
                    ('public_key_pem', models.TextField(help_text='RSA or EC public key (PEM).')),
                    ('scopes', models.JSONField(help_text='Allowed scopes, e.g. ["system/*.read"].')),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('revoked_at', models.DateTimeField(blank=True, null=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='smart_clients', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['client_id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.interop.migrations',
        ['0003_fhirimp13f_imported_observations'],
    )
